"""Mistakes a checker must catch (test_typing.py expects an error on each marked line)."""

from __future__ import annotations

import ritellm

response = ritellm.completion("mock/echo", [{"role": "user", "content": "hi"}])
print(response.choices[0].mesage)  # error: misspelt field
print(response.usage.total_tokns if response.usage else 0)  # error: misspelt field
for chunk in ritellm.completion("mock/echo", [{"role": "user", "content": "hi"}], stream=True):
    print(chunk.choices[0].message)  # error: chunks have deltas
answer = ritellm.responses("mock/echo", "hi")
print(answer.output_txt)  # error: misspelt field
for event in ritellm.responses("mock/echo", "hi", stream=True):
    print(event.choices)  # error: events have no choices
