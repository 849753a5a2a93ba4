/* kzquiz Choice cards: tap an option to pick it; the back marks your pick right or wrong.
 *
 * Progressive enhancement: without JavaScript the front is a plain lettered list and the
 * back lists the correct options in plain HTML; with it, that list is hidden, since the
 * options themselves are marked right and wrong.
 *
 * Anki desktop and AnkiMobile keep one page for both sides, AnkiDroid loads the back as a
 * new page, so the pick is kept both in a window variable and in sessionStorage.
 */
(function () {
  "use strict";
  var KEY = "kzquiz-pick";

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  function load(qid) {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(KEY);
    } catch (e) {
      raw = null;
    }
    if (raw === null && typeof window.kzquizPick === "string") {
      raw = window.kzquizPick;
    }
    try {
      var data = JSON.parse(raw);
      if (data && data.qid === qid && Array.isArray(data.picks)) {
        return data.picks;
      }
    } catch (e) {
      /* nothing stored, or not ours */
    }
    return [];
  }

  function save(qid, picks) {
    var raw = JSON.stringify({ qid: qid, picks: picks });
    window.kzquizPick = raw;
    try {
      window.sessionStorage.setItem(KEY, raw);
    } catch (e) {
      /* storage may be disabled; the window variable still works on one page */
    }
  }

  function letterOf(item) {
    return item.getAttribute("data-letter");
  }

  function front(card, qid, items) {
    var multiple = card.getAttribute("data-kind") === "multiple";
    save(qid, []);
    card.classList.add("kz-interactive");
    items.forEach(function (item) {
      item.setAttribute("role", "button");
      item.setAttribute("tabindex", "0");
      item.setAttribute("aria-pressed", "false");
      function toggle(event) {
        event.preventDefault();
        var on = item.getAttribute("aria-pressed") !== "true";
        if (!multiple) {
          items.forEach(function (other) {
            other.setAttribute("aria-pressed", "false");
          });
        }
        item.setAttribute("aria-pressed", on ? "true" : "false");
        save(
          qid,
          items
            .filter(function (i) {
              return i.getAttribute("aria-pressed") === "true";
            })
            .map(letterOf)
        );
      }
      item.addEventListener("click", toggle);
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          toggle(event);
        }
      });
    });
  }

  // What the verdict calls an option: its letter, or for true/false its word ("True").
  function namer(card, items) {
    if (card.getAttribute("data-kind") !== "truefalse") {
      return function (letter) {
        return letter;
      };
    }
    return function (letter) {
      for (var i = 0; i < items.length; i += 1) {
        if (letterOf(items[i]) === letter) {
          var text = items[i].querySelector(".kz-text");
          return text ? text.textContent : letter;
        }
      }
      return letter;
    };
  }

  function back(card, qid, items, key) {
    var correct = (key.getAttribute("data-correct") || "").split(/\s+/).filter(Boolean);
    var picks = load(qid);
    var name = namer(card, items);
    var right = 0;
    var wrong = 0;
    items.forEach(function (item) {
      var letter = letterOf(item);
      var isCorrect = correct.indexOf(letter) >= 0;
      var picked = picks.indexOf(letter) >= 0;
      item.classList.toggle("kz-correct", isCorrect);
      item.classList.toggle("kz-picked", picked);
      item.classList.toggle("kz-wrong", picked && !isCorrect);
      if (picked) {
        item.setAttribute("aria-pressed", "true");
        if (isCorrect) {
          right += 1;
        } else {
          wrong += 1;
        }
      }
    });
    // The options now carry the marks, so the plain list of right answers (the no-script
    // fallback) would only say it twice.
    var solution = document.querySelector(".kz-solution");
    if (solution && items.length > 0) {
      solution.hidden = true;
    }
    var verdict = document.querySelector(".kz-verdict");
    if (!verdict) {
      return;
    }
    var picked = picks.map(name).join(", ");
    var answer = correct.map(name).join(", ");
    var text;
    var tone;
    if (picks.length === 0) {
      text = "You did not pick an option.";
      tone = "kz-none";
    } else if (wrong === 0 && right === correct.length) {
      text = "Right: you picked " + picked + ".";
      tone = "kz-right";
    } else if (right > 0) {
      text = "Partly right: you picked " + picked + "; the answer is " + answer + ".";
      tone = "kz-partial";
    } else {
      text = "Wrong: you picked " + picked + "; the answer is " + answer + ".";
      tone = "kz-wrong";
    }
    verdict.textContent = text;
    verdict.classList.add(tone);
    verdict.hidden = false;
  }

  ready(function () {
    var card = document.querySelector(".kz-choice");
    if (!card) {
      return;
    }
    var qid = card.getAttribute("data-qid") || "";
    var items = Array.prototype.slice.call(card.querySelectorAll(".kz-options li[data-letter]"));
    var key = document.querySelector(".kz-key");
    if (key) {
      back(card, qid, items, key);
    } else {
      front(card, qid, items);
    }
  });
})();
