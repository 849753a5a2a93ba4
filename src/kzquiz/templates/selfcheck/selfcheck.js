/* kzquiz self-check: decode the questions, show them, grade them, keep progress.
   Every bank string reaches the page through textContent / text nodes, never as HTML. */
(function () {
  "use strict";

  /* ---- Answer checking. This mirrors src/kzquiz/grading.py rule for rule; the tests run
     both against one table of cases, so change them together. ---- */

  // Python's str.isspace() set, which is what `\s` and strip() mean in grading.py.
  var WS = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var SPACES = new RegExp("[" + WS + "]+", "g");
  var EDGES = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "g");
  var TRAILING = new RegExp("[" + WS + ".,;:!?]+$");
  var NUMBER = /^[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  // A comma not followed by groups of exactly three digits is a decimal comma ("1,93").
  var DECIMAL_COMMA = /^[+-]?[0-9]+,[0-9]+(?:[eE][+-]?[0-9]+)?$/;
  // Where the page's language writes a decimal comma (ru, kk), a comma is always the decimal
  // sign, a point is accepted too, and thousands are grouped with spaces ("1 500,5").
  var COMMA_NUMBER = /^[+-]?(?:(?:[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  var REL_EPS = 1e-9;
  // kzquiz.source.normalise: typographic quotes, dashes, no-break space and ellipsis.
  var TRANSLATE = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": "\"", "\u201d": "\"", "\u201e": "\"", "\u201f": "\"", "\u2033": "\"",
    "\u00ab": "\"", "\u00bb": "\"",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00a0": " ", "\u2026": "..."
  };
  var TRANSLATE_RE = /[\u2018\u2019\u201a\u201b\u2032\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2010-\u2015\u2212\u00a0\u2026]/g;
  // A hyphen joining two words may be typed as a space; a leading minus sign is left alone.
  // (No lookbehind: older Safari cannot parse it, and the whole script would fail.)
  var JOINING_HYPHENS = /([^ -])-+(?=[^ -])/g;
  var ARTICLE = /^(?:the|an?) (?=.)/;
  var MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december"];
  var MONTH = "(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\.?";
  var DAY = "([0-9]{1,2})(?:st|nd|rd|th)?";
  var YEAR = "(?:,? ([0-9]{4}))?";
  var DAY_MONTH = new RegExp("^(?:the )?" + DAY + "(?: of)? " + MONTH + YEAR + "$");
  var MONTH_DAY = new RegExp("^" + MONTH + "(?: the)? " + DAY + YEAR + "$");
  // The bank's language (<html data-language>; <html lang> is the language of the page's own
  // text, which --language may set apart from the bank's).
  var PAGE_LANGUAGE = document.documentElement.getAttribute("data-language") ||
    document.documentElement.getAttribute("lang") || "en";
  // "comma" where the page's language writes decimals with a comma (grading.parse_number).
  var PAGE_DECIMAL = document.documentElement.getAttribute("data-decimal") || "point";

  function foldCase(text) {
    // grading.fold_case: lower, upper, lower again (ß and ẞ become "ss", ı becomes i), the
    // final sigma as σ, composed again, and İ's i + dot above as plain i.
    var folded = text.toLowerCase().toUpperCase().toLowerCase().replace(/\u03c2/g, "\u03c3");
    return folded.normalize("NFC").replace(/i\u0307/g, "i");
  }

  function normalise(text) {
    var t = String(text).replace(TRANSLATE_RE, function (ch) { return TRANSLATE[ch]; });
    return foldCase(t.replace(SPACES, " ").replace(EDGES, ""));
  }

  function normaliseAnswer(text) {
    return normalise(String(text).normalize("NFC")).replace(TRAILING, "");
  }

  function dateKey(key) {
    var m = DAY_MONTH.exec(key), day, month, year;
    if (m) { day = m[1]; month = m[2]; year = m[3]; } else {
      m = MONTH_DAY.exec(key);
      if (!m) { return null; }
      month = m[1]; day = m[2]; year = m[3];
    }
    var d = parseInt(day, 10);
    if (d < 1 || d > 31) { return null; }
    var name = MONTHS.filter(function (full) { return full.indexOf(month.slice(0, 3)) === 0; })[0];
    return d + " " + name + (year ? " " + year : "");
  }

  function answerKey(text, language) {
    var key = normaliseAnswer(text).replace(JOINING_HYPHENS, "$1 ");
    if (String(language).split("-")[0] !== "en") { return key; }
    key = key.replace(ARTICLE, "");
    return dateKey(key) || key;
  }

  function sameAnswer(response, accepted, language) {
    var typed = answerKey(response, language);
    if (!typed) { return false; }
    for (var i = 0; i < accepted.length; i++) {
      if (typed === answerKey(accepted[i], language)) { return true; }
    }
    return false;
  }

  function parseNumber(text, decimal) {
    var s = String(text).replace(EDGES, "").replace(/\u2212/g, "-");
    if ((decimal === undefined ? PAGE_DECIMAL : decimal) === "comma") {
      if (!COMMA_NUMBER.test(s)) { return null; }
      return Number(s.replace(/[ \u00a0\u202f]/g, "").replace(",", "."));
    }
    if (NUMBER.test(s)) { return Number(s.replace(/,/g, "")); }
    if (DECIMAL_COMMA.test(s)) { return Number(s.replace(",", ".")); }
    return null;
  }

  function within(value, lo, hi) {
    if (isNaN(value)) { return false; }
    var scale = 1;
    if (isFinite(lo)) { scale = Math.max(scale, Math.abs(lo)); }
    if (isFinite(hi)) { scale = Math.max(scale, Math.abs(hi)); }
    var eps = REL_EPS * scale;
    return lo - eps <= value && value <= hi + eps;
  }

  function isInt(v) { return typeof v === "number" && Number.isInteger(v); }

  function slots(response, n) {
    var out = [];
    for (var i = 0; i < n; i++) {
      var v = Array.isArray(response) && i < response.length ? response[i] : null;
      out.push(isInt(v) ? v : null);
    }
    return out;
  }

  function one(ok) { return { correct: ok, parts: [ok] }; }

  function allTrue(parts) {
    for (var i = 0; i < parts.length; i++) { if (!parts[i]) { return false; } }
    return true;
  }

  function grade(q, response, language) {
    var parts = [], i, n;
    if (language === undefined) { language = PAGE_LANGUAGE; }
    switch (q.type) {
      case "single":
        return one(isInt(response) && response >= 0 && response < q.choices.length &&
                   q.correct.indexOf(response) >= 0);
      case "multiple": {
        var picked = {};
        if (Array.isArray(response)) {
          response.forEach(function (r) { if (isInt(r)) { picked[r] = true; } });
        }
        for (i = 0; i < q.choices.length; i++) {
          parts.push(!!picked[i] === (q.correct.indexOf(i) >= 0));
        }
        return { correct: allTrue(parts), parts: parts };
      }
      case "truefalse":
        return one(typeof response === "boolean" && response === q.answer);
      case "cloze":
        for (i = 0; i < q.blanks.length; i++) {
          var typed = Array.isArray(response) && i < response.length &&
                      typeof response[i] === "string" ? response[i] : "";
          parts.push(sameAnswer(typed, q.blanks[i], language));
        }
        return { correct: allTrue(parts), parts: parts };
      case "short":
        return one(typeof response === "string" && sameAnswer(response, q.answers, language));
      case "numeric": {
        var value = null;
        if (typeof response === "number") { value = response; }
        else if (typeof response === "string") { value = parseNumber(response); }
        return one(value !== null && within(value, Number(q.lo), Number(q.hi)));
      }
      case "matching":
      case "ordering": {
        n = q.type === "matching" ? q.left.length : q.items.length;
        var got = slots(response, n);
        for (i = 0; i < n; i++) { parts.push(got[i] === i); }
        // An order with items left out or repeated is never right, whatever its prefix.
        var whole = q.type === "matching" || (Array.isArray(response) && response.length === n);
        return { correct: whole && allTrue(parts), parts: parts };
      }
    }
    throw new Error("unknown question type: " + q.type);
  }

  /* ---- Decoding: base64, then XOR with the key kzquiz.render.selfcheck derives. ---- */

  var KEY_LENGTH = 1021;

  function keyFor(bankId) {
    var bytes = new TextEncoder().encode("kzquiz:" + bankId);
    var h = 0x811c9dc5, i;
    for (i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0; }
    var x = h || 1, key = new Uint8Array(KEY_LENGTH);
    for (i = 0; i < KEY_LENGTH; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      key[i] = x & 0xff;
    }
    return key;
  }

  function decode(text, bankId) {
    var bin = atob(text.replace(SPACES, "")), key = keyFor(bankId);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i) ^ key[i % KEY_LENGTH]; }
    return JSON.parse(new TextDecoder("utf-8").decode(bytes));
  }

  // For tests and the curious: the same functions the page uses.
  window.kzquizSelfcheck = {
    normalise: normalise, normaliseAnswer: normaliseAnswer, parseNumber: parseNumber,
    foldCase: foldCase, answerKey: answerKey, grade: grade, decode: decode
  };

  /* ---- The page ---- */

  var meta = JSON.parse(document.getElementById("kzq-meta").textContent);
  // The page's own words, from the language's catalog (kzquiz.render.selfcheck.page_text).
  var TEXT = JSON.parse(document.getElementById("kzq-text").textContent);

  function fill(message, vars) {
    return String(message).replace(/%\((\w+)\)s/g, function (m, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
    });
  }
  function msg(key, vars) { return fill(TEXT.messages[key], vars); }
  // The catalog's plural rule: Russian has three forms (1, 2-4, 5-20 and so on), English and
  // Kazakh two; the forms come in the catalog's order.
  function pluralIndex(n) {
    if (TEXT.plural === "ru") {
      return n % 10 === 1 && n % 100 !== 11 ? 0
        : n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? 1 : 2;
    }
    return n === 1 ? 0 : 1;
  }
  function tn(key, n, vars) {
    var forms = TEXT.messages[key];
    var all = { num: n };
    for (var k in vars || {}) { if (Object.prototype.hasOwnProperty.call(vars, k)) { all[k] = vars[k]; } }
    return fill(forms[Math.min(pluralIndex(n), forms.length - 1)], all);
  }
  window.kzquizSelfcheck.plural = tn;
  var data = decode(document.getElementById("kzq-data").textContent, meta.bank);
  // One key per page (bank, questions, seed): every file:// page shares one localStorage.
  var STORE = meta.store;
  var questions = data.questions;
  var topicName = {};
  data.topics.forEach(function (t) { topicName[t.id] = t.name; });
  var byId = {}, controls = {}, numberOf = {};
  questions.forEach(function (q, i) { byId[q.id] = q; numberOf[q.id] = i + 1; });

  var quiz = document.getElementById("quiz");
  var progress = document.getElementById("progress");
  var status = document.getElementById("status");
  var scoreBox = document.getElementById("score");
  var checkBtn = document.getElementById("check");
  var retryBtn = document.getElementById("retry");
  var resetBtn = document.getElementById("reset");
  var passageBox = document.getElementById("passage");
  var wrongBox = document.getElementById("score-wrong");
  var storageOk = true;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === "class") { node.className = v; } else { node.setAttribute(k, v === true ? "" : String(v)); }
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  // Move focus and the view to the top of a card, the score or a paragraph: focus() alone
  // scrolls a card taller than a phone's screen to show its end, not its start.
  function goTo(node) {
    node.scrollIntoView({ block: "start" });
    node.focus({ preventScroll: true });
  }

  // A picture from the page's data (a data: URI), with its alt text, caption and credit.
  function figure(pic, kind) {
    var note = [pic.caption, pic.credit].filter(Boolean).join(" · ");
    return el("figure", { "class": "figure figure-" + kind }, [
      el("img", { src: pic.src, alt: pic.alt }),
      note ? el("figcaption", null, [note]) : null
    ]);
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function announce(text) {
    // Re-setting the same text would not be announced again; clear it first.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  /* State: answers by question id, which questions are asked this round, checked or not. */

  function fresh() { return { v: 1, answers: {}, active: null, checked: false, best: {}, round: 1 }; }

  function loadState() {
    var raw = null;
    try { raw = window.localStorage.getItem(STORE); } catch (e) { storageOk = false; }
    var s = fresh();
    if (!raw) { return s; }
    try {
      var saved = JSON.parse(raw);
      if (saved && typeof saved === "object") {
        if (saved.answers && typeof saved.answers === "object") { s.answers = saved.answers; }
        if (Array.isArray(saved.active)) {
          // Another page of the same bank may hold other questions; keep only ours.
          var mine = saved.active.filter(function (id) { return byId.hasOwnProperty(id); });
          s.active = mine.length ? mine : null;
        }
        s.checked = saved.checked === true;
        if (saved.best && typeof saved.best === "object") { s.best = saved.best; }
        if (isInt(saved.round) && saved.round > 0) { s.round = saved.round; }
      }
    } catch (e) { /* unreadable progress: start afresh rather than break the page */ }
    return s;
  }

  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) {
      if (storageOk) {
        storageOk = false;
        announce(msg("storageLost"));
      }
    }
  }

  function activeIds() {
    return state.active || questions.map(function (q) { return q.id; });
  }

  function isAnswered(q, r) {
    switch (q.type) {
      case "single": return isInt(r);
      case "truefalse": return typeof r === "boolean";
      case "multiple": return Array.isArray(r) && r.length > 0;
      case "cloze": return Array.isArray(r) && r.some(function (t) { return typeof t === "string" && t.replace(EDGES, "") !== ""; });
      case "short": case "numeric": return typeof r === "string" && r.replace(EDGES, "") !== "";
      case "matching": return Array.isArray(r) && r.some(isInt);
      case "ordering": return Array.isArray(r); // stored once the student has moved an item
    }
    return false;
  }

  /* ---- One widget per question type: build(), read(), write(), lock(), mark() ---- */

  function choiceWidget(q, body, number) {
    var multi = q.type === "multiple";
    var tf = q.type === "truefalse";
    var labels = tf ? [msg("true"), msg("false")] : q.choices;
    var order = tf ? [0, 1] : q.order;
    var inputs = [], rows = [];
    // Say that several answers may be right, unless the prompt already does.
    var needsHint = multi && !/all that apply/i.test(q.prompt);
    var legend = el("legend", { "class": "prompt" }, [q.prompt, needsHint ? el("span", { "class": "hint" }, [" " + msg("selectAll")]) : null]);
    var list = el("ul", { "class": "options" });
    order.forEach(function (idx) {
      var id = "q-" + q.id + "-c" + idx;
      var input = el("input", { type: multi ? "checkbox" : "radio", name: "q-" + q.id, id: id, value: String(idx) });
      var label = el("label", { "class": "option", "for": id }, [input, el("span", { "class": "text" }, [labels[idx]])]);
      inputs[idx] = input; rows[idx] = label;
      list.appendChild(el("li", null, [label]));
    });
    body.appendChild(el("fieldset", { "aria-describedby": number }, [legend, list]));
    function value(idx) { return tf ? idx === 0 : idx; }
    return {
      read: function () {
        var picked = [];
        inputs.forEach(function (input, idx) { if (input.checked) { picked.push(value(idx)); } });
        if (multi) { return picked; }
        return picked.length ? picked[0] : null;
      },
      write: function (r) {
        inputs.forEach(function (input, idx) {
          input.checked = multi ? Array.isArray(r) && r.indexOf(idx) >= 0 : r === value(idx);
        });
      },
      lock: function (on) { inputs.forEach(function (i) { i.disabled = on; }); },
      mark: function (r) {
        inputs.forEach(function (input, idx) {
          var correct = tf ? value(idx) === q.answer : q.correct.indexOf(idx) >= 0;
          var row = rows[idx];
          var tag = null;
          if (input.checked && correct) { row.className = "option picked-right"; tag = el("span", { "class": "tag good" }, [msg("tagPickedRight")]); }
          else if (input.checked) { row.className = "option picked-wrong"; tag = el("span", { "class": "tag bad" }, [msg("tagPickedWrong")]); }
          else if (correct) { row.className = "option missed"; tag = el("span", { "class": "tag good" }, [msg("tagCorrect")]); }
          if (tag) { row.appendChild(tag); }
        });
      },
      unmark: function () {
        rows.forEach(function (row) {
          row.className = "option";
          var tag = row.querySelector(".tag");
          if (tag) { tag.parentNode.removeChild(tag); }
        });
      }
    };
  }

  function textWidget(q, body, number) {
    var id = "q-" + q.id + "-answer";
    var numeric = q.type === "numeric";
    var input = el("input", {
      type: "text", id: id, "class": numeric ? "" : "wide", autocomplete: "off", spellcheck: "false",
      autocapitalize: "off", inputmode: numeric && Number(q.lo) >= 0 ? "decimal" : null,
      "aria-describedby": numeric ? id + "-hint " + number : number
    });
    body.appendChild(el("label", { "class": "prompt", "for": id }, [q.prompt]));
    if (numeric) {
      body.appendChild(el("div", { "class": "number-row" }, [input, q.unit ? el("span", { "class": "unit" }, [q.unit]) : null]));
      body.appendChild(el("p", { "class": "hint", id: id + "-hint" }, [
        q.unit ? msg("numberHintUnit", { unit: q.unit }) : msg("numberHint")
      ]));
    } else {
      body.appendChild(el("div", null, [input]));
    }
    return {
      read: function () { return input.value; },
      write: function (r) { input.value = typeof r === "string" ? r : ""; },
      lock: function (on) { input.disabled = on; },
      mark: function (r, g) { input.className = (numeric ? "" : "wide ") + (g.correct ? "is-right" : "is-wrong"); },
      unmark: function () { input.className = numeric ? "" : "wide"; }
    };
  }

  function clozeWidget(q, body, number) {
    var inputs = [], expected = [];
    var para = el("p", { "class": "cloze prompt" });
    q.segments.forEach(function (seg) {
      if (typeof seg === "string") { para.appendChild(document.createTextNode(seg)); return; }
      var input = el("input", {
        type: "text", "class": "blank", id: "q-" + q.id + "-b" + seg, autocomplete: "off",
        spellcheck: "false", autocapitalize: "off",
        "aria-label": msg("blankOf", { n: seg + 1, count: q.blanks.length }), "aria-describedby": number
      });
      var exp = el("span", { "class": "expected", hidden: true });
      inputs[seg] = input; expected[seg] = exp;
      para.appendChild(input); para.appendChild(exp);
    });
    body.appendChild(el("p", { "class": "hint" }, [msg("fillBlanks")]));
    body.appendChild(para);
    return {
      read: function () { return inputs.map(function (i) { return i.value; }); },
      write: function (r) { inputs.forEach(function (i, k) { i.value = Array.isArray(r) && typeof r[k] === "string" ? r[k] : ""; }); },
      lock: function (on) { inputs.forEach(function (i) { i.disabled = on; }); },
      mark: function (r, g) {
        inputs.forEach(function (input, k) {
          input.className = "blank " + (g.parts[k] ? "is-right" : "is-wrong");
          if (!g.parts[k]) { expected[k].textContent = msg("blankAnswer", { answer: q.blanks[k][0] }); expected[k].hidden = false; }
        });
      },
      unmark: function () {
        inputs.forEach(function (input, k) { input.className = "blank"; expected[k].textContent = ""; expected[k].hidden = true; });
      }
    };
  }

  function matchingWidget(q, body, number) {
    var selects = [], expected = [], chosen = [];
    body.appendChild(el("p", { "class": "prompt" }, [q.prompt]));
    var table = el("table", { "class": "match" });
    var tbody = el("tbody");
    q.left.forEach(function (left, i) {
      var id = "q-" + q.id + "-m" + i;
      var select = el("select", { id: id, "aria-describedby": number }, [el("option", { value: "" }, [msg("choose")])]);
      q.order.forEach(function (idx) { select.appendChild(el("option", { value: String(idx) }, [q.right[idx]])); });
      var exp = el("span", { "class": "expected", hidden: true });
      // The select already tells a screen reader its value; this is for eyes only.
      var full = el("span", { "class": "chosen", "aria-hidden": "true" });
      select.addEventListener("change", function () { showChosen(i); });
      selects.push(select); expected.push(exp); chosen.push(full);
      tbody.appendChild(el("tr", null, [el("td", null, [el("label", { "for": id }, [left])]), el("td", null, [select, full, exp])]));
    });
    function showChosen(i) {
      var s = selects[i];
      chosen[i].textContent = s.value === "" ? "" : s.options[s.selectedIndex].textContent;
    }
    table.appendChild(tbody);
    body.appendChild(table);
    return {
      read: function () { return selects.map(function (s) { return s.value === "" ? null : Number(s.value); }); },
      write: function (r) {
        selects.forEach(function (s, i) {
          var v = Array.isArray(r) && isInt(r[i]) && r[i] >= 0 && r[i] < q.right.length ? String(r[i]) : "";
          s.value = v;
          showChosen(i);
        });
      },
      lock: function (on) { selects.forEach(function (s) { s.disabled = on; }); },
      mark: function (r, g) {
        selects.forEach(function (s, i) {
          s.className = g.parts[i] ? "is-right" : "is-wrong";
          clear(expected[i]);
          if (g.parts[i]) {
            expected[i].appendChild(document.createTextNode(msg("matchRight")));
          } else {
            expected[i].appendChild(el("span", { "class": "wrong-mark" }, ["✗ "]));
            expected[i].appendChild(document.createTextNode(msg("matchAnswer", { answer: q.right[i] })));
          }
          expected[i].hidden = false;
        });
      },
      unmark: function () {
        selects.forEach(function (s, i) { s.className = ""; clear(expected[i]); expected[i].hidden = true; });
      }
    };
  }

  function orderingWidget(q, body, number) {
    var order = q.start.slice();
    var locked = false, marks = null;
    body.appendChild(el("p", { "class": "prompt", id: "q-" + q.id + "-prompt" }, [q.prompt]));
    body.appendChild(el("p", { "class": "hint" }, [msg("orderHint")]));
    var list = el("ol", { "class": "order", "aria-labelledby": "q-" + q.id + "-prompt", "aria-describedby": number });
    body.appendChild(list);

    function draw(focusItem, focusDir) {
      clear(list);
      order.forEach(function (idx, pos) {
        var text = q.items[idx];
        var up = el("button", { type: "button", "class": "move", "data-dir": "up", "aria-label": msg("moveUp", { item: text }), disabled: locked || pos === 0 }, ["↑"]);
        var down = el("button", { type: "button", "class": "move", "data-dir": "down", "aria-label": msg("moveDown", { item: text }), disabled: locked || pos === order.length - 1 }, ["↓"]);
        up.addEventListener("click", function () { move(pos, -1); });
        down.addEventListener("click", function () { move(pos, 1); });
        var cls = marks ? (marks[pos] ? "is-right" : "is-wrong") : null;
        var li = el("li", { "class": cls }, [el("span", { "class": "pos", "aria-hidden": "true" }, [(pos + 1) + "."]), el("span", { "class": "text" }, [text]),
          marks ? el("span", { "class": "tag " + (marks[pos] ? "good" : "bad") }, [marks[pos] ? msg("rightPlace") : msg("belongsAt", { n: idx + 1 })]) : null,
          locked ? null : el("span", { "class": "moves" }, [up, down])]);
        list.appendChild(li);
        if (focusItem === idx) {
          // Keep focus on the item that moved; at either end its button is disabled, so use the other.
          var target = (focusDir < 0 ? up : down);
          (target.disabled ? (focusDir < 0 ? down : up) : target).focus();
        }
      });
    }

    function move(pos, dir) {
      var to = pos + dir;
      if (locked || to < 0 || to >= order.length) { return; }
      var idx = order[pos];
      order[pos] = order[to]; order[to] = idx;
      draw(idx, dir);
      announce(msg("moved", { item: q.items[idx], n: to + 1, count: order.length }));
      changed(q);
    }

    draw(null, 0);
    return {
      read: function () { return order.slice(); },
      write: function (r) {
        var ok = Array.isArray(r) && r.length === q.items.length &&
          r.slice().sort(function (a, b) { return a - b; }).every(function (v, i) { return v === i; });
        order = ok ? r.slice() : q.start.slice();
        draw(null, 0);
      },
      lock: function (on) { locked = on; draw(null, 0); },
      mark: function (r, g) { marks = g.parts; draw(null, 0); },
      unmark: function () { marks = null; draw(null, 0); }
    };
  }

  function feedback(q, r, g, box, blank) {
    clear(box);
    var verdict;
    var n = g.parts.length;
    var unit = q.type === "cloze" ? "partsBlanks" : q.type === "matching" ? "partsMatches" : null;
    if (g.correct) {
      verdict = el("p", { "class": "verdict right" }, [msg("right")]);
    } else if (blank) {
      verdict = el("p", { "class": "verdict blank" }, [msg("notAnswered")]);
    } else {
      var why = "";
      if (q.type === "numeric" && parseNumber(r) === null) { why = " " + msg("notNumber", { text: r }); }
      else if (unit && n > 1) { why = " " + msg(unit, { right: g.parts.filter(Boolean).length, n: n }); }
      verdict = el("p", { "class": "verdict wrong" }, [msg("wrong") + why]);
    }
    box.appendChild(verdict);
    if (!g.correct) { box.appendChild(el("p", { "class": "answer" }, [el("strong", null, [msg("answer") + " "]), q.answerText])); }
    box.appendChild(el("p", { "class": "explanation" }, [q.explanation]));
    if (q.explanationImage) { box.appendChild(figure(q.explanationImage, "explanation")); }
    box.appendChild(el("blockquote", { "class": "evidence" }, [
      el("p", null, [msg("quote", { quote: q.evidence })]),
      el("p", { "class": "cite" }, [msg("fromArticle"), q.paragraph ? ", " : null, citation(q)])
    ]));
    var back = el("a", { "class": "to-score", href: "#score" }, [msg("backToScore")]);
    back.addEventListener("click", function (e) { e.preventDefault(); goTo(scoreBox); });
    box.appendChild(back);
    box.hidden = false;
  }

  /* ---- The reading passage: folded, numbered as the feedback cites it ---- */

  var paragraphs = {};
  var backLink = el("a", { "class": "back-to-question", href: "#quiz" });
  backLink.addEventListener("click", function (e) {
    var id = backLink.getAttribute("data-qid");
    if (!id || !cards[id]) { return; }
    e.preventDefault();
    goTo(cards[id]);
  });

  function buildPassage(p) {
    passageBox.appendChild(el("summary", null, [
      msg("article", { title: p.title }) + (p.date ? " (" + p.date + ")" : "") +
      " · " + tn("paragraphs", p.paragraphs.length)
    ]));
    p.paragraphs.forEach(function (row) {
      var num = row[0], heading = row[1], text = row[2];
      if (heading) { passageBox.appendChild(el("h3", null, [heading])); }
      var para = el("p", { "class": "para", id: "para-" + num, tabindex: "-1" }, [
        el("span", { "class": "pn" }, [el("span", { "class": "visually-hidden" }, [msg("paragraph") + " "]), String(num)]),
        el("span", { "class": "ptext" }, [text])
      ]);
      paragraphs[num] = para;
      passageBox.appendChild(para);
    });
    passageBox.hidden = false;
  }

  function showParagraph(num, q) {
    var para = paragraphs[num];
    passageBox.open = true;
    backLink.setAttribute("href", "#q-" + q.id);
    backLink.setAttribute("data-qid", q.id);
    backLink.textContent = msg("backToQuestion", { n: numberOf[q.id] });
    para.querySelector(".ptext").appendChild(backLink);
    goTo(para);
  }

  function citation(q) {
    if (!q.paragraph) { return null; }
    var label = msg("citeParagraph", { n: q.paragraph });
    if (!paragraphs[q.paragraph]) { return label; }
    var link = el("a", { href: "#para-" + q.paragraph }, [label]);
    link.addEventListener("click", function (e) { e.preventDefault(); showParagraph(q.paragraph, q); });
    return link;
  }

  if (data.passage) { buildPassage(data.passage); }

  /* ---- Building the page ---- */

  var cards = {}, boxes = {};
  questions.forEach(function (q, i) {
    var numberId = "q-" + q.id + "-title";
    // tabindex -1: links from the score and the passage move focus (and a phone's view) here.
    var card = el("section", { "class": "q", id: "q-" + q.id, "aria-labelledby": numberId, tabindex: "-1" });
    card.appendChild(el("h2", { "class": "q-meta", id: numberId }, [
      el("span", { "class": "num" }, [msg("questionOf", { n: i + 1, count: questions.length })]),
      " · " + (topicName[q.topic] || q.topic)
    ]));
    var make = { single: choiceWidget, multiple: choiceWidget, truefalse: choiceWidget, cloze: clozeWidget,
      short: textWidget, numeric: textWidget, matching: matchingWidget, ordering: orderingWidget }[q.type];
    if (q.image) { card.appendChild(figure(q.image, "prompt")); }
    controls[q.id] = make(q, card, numberId);
    var box = el("div", { "class": "feedback", hidden: true });
    card.appendChild(box);
    cards[q.id] = card; boxes[q.id] = box;
    card.addEventListener("input", function () { changed(q); });
    card.addEventListener("change", function () { changed(q); });
    quiz.appendChild(card);
  });

  var state = loadState();

  function changed(q) {
    if (state.checked) { return; }
    state.answers[q.id] = controls[q.id].read();
    save();
    showProgress();
  }


  // Each question asked this round is right, wrong, or blank (never answered): a blank is
  // neither counted against the student nor retried.
  function tally() {
    var t = { right: [], wrong: [], blank: [] };
    activeIds().forEach(function (id) {
      var q = byId[id];
      if (grade(q, controls[id].read()).correct) { t.right.push(id); }
      else if (isAnswered(q, state.answers[id])) { t.wrong.push(id); }
      else { t.blank.push(id); }
    });
    return t;
  }

  function summary(t) {
    var answered = t.right.length + t.wrong.length;
    if (!answered) { return tn("nothingAnswered", t.blank.length); }
    return tn("answeredRight", answered, { right: t.right.length, percent: percent(t.right.length, answered) }) +
      (t.blank.length ? "; " + tn("leftBlank", t.blank.length) : "");
  }

  function showProgress() {
    var ids = activeIds();
    if (state.checked) {
      progress.textContent = msg("checked", { summary: summary(tally()) });
      return;
    }
    var done = ids.filter(function (id) { return isAnswered(byId[id], state.answers[id]); }).length;
    var lead = state.active ? tn("retrying", ids.length) + " · " : "";
    progress.textContent = lead + msg("answeredOf", { done: done, count: ids.length });
  }

  function percent(a, b) { return b ? Math.round((100 * a) / b) + "%" : "0%"; }

  function excerpt(text, limit) {
    var t = String(text).replace(SPACES, " ").replace(EDGES, "");
    return t.length > limit ? t.slice(0, limit - 1).replace(EDGES, "") + "…" : t;
  }

  function showScore(t) {
    var ids = activeIds(), right = {}, blank = {};
    t.right.forEach(function (id) { right[id] = true; });
    t.blank.forEach(function (id) { blank[id] = true; });
    document.getElementById("score-total").textContent = (state.active ? msg("thisRound") + " " : "") + summary(t);
    var tbody = scoreBox.querySelector("tbody");
    clear(tbody);
    data.topics.forEach(function (topic) {
      var mine = ids.filter(function (id) { return byId[id].topic === topic.id; });
      if (!mine.length) { return; }
      var got = mine.filter(function (id) { return right[id]; }).length;
      var left = mine.filter(function (id) { return blank[id]; }).length;
      tbody.appendChild(el("tr", null, [el("th", { scope: "row" }, [topic.name]), el("td", { "class": "n" }, [String(got)]),
        el("td", { "class": "n" }, [String(mine.length - left)]), el("td", { "class": "n" }, [String(left)])]));
    });
    // A link to each wrong question, so a long page on a phone needs no scrolling to find them.
    var list = wrongBox.querySelector("ol");
    clear(list);
    t.wrong.forEach(function (id) {
      var link = el("a", { href: "#q-" + id }, [msg("questionN", { n: numberOf[id] })]);
      link.addEventListener("click", function (e) { e.preventDefault(); goTo(cards[id]); });
      list.appendChild(el("li", null, [link, el("span", { "class": "excerpt" }, [" · " + excerpt(byId[id].prompt, 70)])]));
    });
    wrongBox.hidden = !t.wrong.length;
    var overall = document.getElementById("score-overall");
    var best = questions.filter(function (q) { return state.best[q.id] === true; }).length;
    overall.textContent = state.round > 1
      ? tn("overall", questions.length, { best: best })
      : "";
    overall.hidden = state.round <= 1;
    scoreBox.hidden = false;
  }

  function render() {
    var ids = activeIds(), active = {};
    ids.forEach(function (id) { active[id] = true; });
    questions.forEach(function (q) {
      var c = controls[q.id];
      cards[q.id].hidden = !active[q.id];
      c.unmark();
      c.write(state.answers[q.id]);
      c.lock(state.checked && !!active[q.id]);
      cards[q.id].className = "q";
      boxes[q.id].hidden = true;
      clear(boxes[q.id]);
      if (state.checked && active[q.id]) {
        var r = c.read(), g = grade(q, r);
        var blank = !g.correct && !isAnswered(q, state.answers[q.id]);
        c.mark(r, g);
        cards[q.id].className = "q " + (g.correct ? "is-right" : blank ? "is-blank" : "is-wrong");
        feedback(q, r, g, boxes[q.id], blank);
      }
    });
    var t = state.checked ? tally() : null;
    if (t) { showScore(t); } else { scoreBox.hidden = true; }
    checkBtn.hidden = state.checked;
    handinForm.hidden = !state.checked;
    retryBtn.hidden = !(t && t.wrong.length > 0);
    showProgress();
  }

  checkBtn.addEventListener("click", function () {
    activeIds().forEach(function (id) {
      var r = controls[id].read();
      // An ordering always reads as some order; it counts as answered once an item was moved.
      if (byId[id].type !== "ordering" || state.answers.hasOwnProperty(id)) { state.answers[id] = r; }
      if (grade(byId[id], r).correct) { state.best[id] = true; }
    });
    state.checked = true;
    save();
    render();
    scoreBox.focus();
  });

  retryBtn.addEventListener("click", function () {
    var missed = tally().wrong;
    if (!missed.length) { return; }
    missed.forEach(function (id) { delete state.answers[id]; });
    state.active = missed;
    state.checked = false;
    state.round += 1;
    save();
    render();
    announce(tn("retrying", missed.length) + ".");
    var first = cards[missed[0]].querySelector("input, select, button");
    if (first) { first.focus(); }
  });
  resetBtn.addEventListener("click", function () {
    if (!window.confirm(msg("confirmReset"))) { return; }
    try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing kept, nothing to clear */ }
    state = fresh();
    render();
    announce(msg("cleared"));
    var first = quiz.querySelector("input, select, button");
    if (first) { first.focus(); }
  });

  /* ---- Hand in: the answers, by question id in bank order, as grade/handin.py reads them ---- */

  var handinForm = document.getElementById("handin");
  var handinName = document.getElementById("handin-name");
  var handinDone = document.getElementById("handin-done");

  function handinCells(q, r) {
    function letter(i) { return String.fromCharCode(65 + i); }
    switch (q.type) {
      case "single": return [letter(r)];
      case "multiple": return [r.slice().sort(function (a, b) { return a - b; }).map(letter).join("")];
      case "truefalse": return [r ? "T" : "F"];
      case "numeric": case "short": return [r];
      case "cloze": return q.blanks.map(function (b, k) { return typeof r[k] === "string" ? r[k] : ""; });
      case "matching": return r.map(function (c) { return isInt(c) ? String(c + 1) : ""; });
      case "ordering": {
        var positions = [];
        r.forEach(function (item, at) { positions[item] = String(at + 1); });
        return positions;
      }
    }
    throw new Error("unknown question type: " + q.type);
  }

  function fnv1a(text) {
    var bytes = new TextEncoder().encode(text), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0; }
    return ("0000000" + h.toString(16)).slice(-8);
  }

  function csvLine(cells) {
    return cells.map(function (c) {
      return /[",\r\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c;
    }).join(",");
  }

  function handinRows(name) {
    var rows = [["kzquiz-responses", meta.bank, meta.set, PAGE_DECIMAL]];
    // By question id, choices in bank order: the grader knows the bank, not this page's shuffle.
    questions.forEach(function (q) {
      var r = state.answers[q.id];
      if (isAnswered(q, r)) { rows.push([name, q.id].concat(handinCells(q, r))); }
    });
    var sum = fnv1a(rows.map(function (cells) { return cells.join("\x1f"); }).join("\n"));
    rows.push(["kzquiz-end", String(rows.length - 1), sum]);
    return rows;
  }

  handinForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var name = handinName.value.replace(SPACES, " ").replace(EDGES, "");
    if (!name) { handinDone.textContent = msg("handinName"); handinName.focus(); return; }
    var text = "\ufeff" + handinRows(name).map(csvLine).join("\r\n") + "\r\n";
    var file = meta.bank + "-" + name.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "") + "-handin.csv";
    var link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: file });
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    handinDone.textContent = msg("handedIn", { file: file });
  });

  render();
}());
