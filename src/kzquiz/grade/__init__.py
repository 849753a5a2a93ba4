"""`kzquiz grade`: answer sheets and typed responses → scores, a gradebook and item statistics."""
