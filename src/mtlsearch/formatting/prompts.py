"""Instruction prompts: the Alpaca-style template, and items <-> response text.

A response holds one item per line. The empty list is written as ``EMPTY_RESPONSE``. Items are
escaped so that the round trip ``parse_response(serialize_items(items)) == items`` is exact for
any list of non-empty strings without surrounding white space: a backslash is doubled, a newline
becomes ``\\n``, and an item that reads like the empty marker is prefixed with ``\\=``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

EMPTY_RESPONSE = "none"

DEFAULT_TEMPLATE = {
    "preamble": (
        "Below is an instruction that describes a task, paired with an input that provides "
        "further context. Write a response that appropriately completes the request."
    ),
    "prompt": "{preamble}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
}


def _escape(item: str) -> str:
    out = item.replace("\\", "\\\\").replace("\n", "\\n")
    if out.lower() == EMPTY_RESPONSE:
        out = "\\=" + out
    return out


def _unescape(line: str) -> str:
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            nxt = line[i + 1]
            if nxt == "n":
                out.append("\n")
                i += 2
                continue
            if nxt == "\\":
                out.append("\\")
                i += 2
                continue
            if nxt == "=" and i == 0:
                # an item that reads like the empty marker
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def serialize_items(items: Sequence[str]) -> str:
    """The response text for a list of items."""
    if len(items) == 0:
        return EMPTY_RESPONSE
    return "\n".join(_escape(str(item)) for item in items)


def parse_response(text: str) -> list[str]:
    """Items from a response text (gold or generated).

    Blank lines and white space around lines are ignored; a response that is the empty marker
    (in any case) is the empty list.
    """
    lines = [line.strip() for line in text.strip().split("\n")]
    lines = [line for line in lines if line]
    if len(lines) == 1 and lines[0].lower() == EMPTY_RESPONSE:
        return []
    return [_unescape(line) for line in lines if line.lower() != EMPTY_RESPONSE]


def build_prompt(instruction: str, text: str, template: Mapping[str, str] | None = None) -> str:
    """The prompt for one example: preamble, instruction, input; the response follows it."""
    template = template or DEFAULT_TEMPLATE
    return template["prompt"].format(
        preamble=template.get("preamble", ""), instruction=instruction.strip(), input=text
    )
