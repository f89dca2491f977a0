r"""Segment's Filter Query Language (FQL): the parser, for destination filters' conditions.

A filter's condition is parsed when the filter is saved; the AST (plain lists, strings, numbers,
booleans and None) is stored as JSON and compiled into closures by the workers
(``delivery/fql.py``). Segment's reference: https://segment.com/docs/api/public-api/fql/

Grammar (lowest precedence first; ``!`` binds tighter than comparisons, which bind tighter than
``and``, which binds tighter than ``or``)::

    expression := "all" | or EOF                 -- "all" alone matches every event
    or         := and ( "or" and )*
    and        := comparison ( "and" comparison )*
    comparison := unary [ ( "=" | "!=" | ">" | ">=" | "<" | "<=" | "in" ) unary ]
    unary      := "!" unary | primary
    primary    := "(" or ")" | list | call | path | string | number | "true" | "false" | "null"
    list       := "[" [ or ( "," or )* ] "]"
    call       := NAME "(" [ or ( "," or )* ] ")"
    path       := segment ( "." segment )*       -- no spaces around the dots
    segment    := ( [A-Za-z0-9_-] | "\" any-character )+   (the first segment starts with a letter,
                  "_" or "\"; "properties.first\ name" and "properties.foo\.bar" escape)
    string     := '"' ... '"' | "'" ... "'"       -- \", \' and \\ are escapes; any other
                  backslash is kept, so glob escapes such as '\*' reach match() intact
    number     := "-"? digits ( "." digits )? ( ( "e" | "E" ) ( "+" | "-" )? digits )?

Comparisons do not chain (``a = b = c`` is an error); ``in`` takes a list literal, a field or a
function call on its right (``'dark-mode' in properties.features``). Segment documents no
``not in``: negate with ``!( x in [...] )``. A field or function used alone as a condition is
true only when its value is the boolean ``true`` (FQL is type strict; ``bool(x)`` converts).
Array elements are reached by their index as a segment: ``properties.products.0.id``.

Functions and their arity: contains/2, match/2, length/1, lowercase/1, uppercase/1,
snakecase/1, kebabcase/1, titlecase/1, typeof/1, bool/1, string/1, number/1. An unknown name, a
wrong number of arguments or a literal glob pattern that cannot compile is a parse error.

AST node shapes (every node is a list whose first item names it)::

    ["all"]                            the whole expression "all": matches everything
    ["lit", value]                     a string, int, float, bool or None literal
    ["list", node, ...]                a list literal
    ["path", "properties", "total"]    a field path, one string per segment (escapes removed)
    ["call", "contains", node, ...]    a function call with its arguments
    ["!", node]                        negation
    ["and", node, node, ...]           two or more operands, flattened
    ["or", node, node, ...]            two or more operands, flattened
    [op, left, right]                  op one of "=", "!=", ">", ">=", "<", "<=", "in"
"""

import re

__all__ = ["FUNCTIONS", "FqlError", "GlobError", "glob_regex", "parse"]

# Function name → number of arguments.
FUNCTIONS = {
    "contains": 2,
    "match": 2,
    "length": 1,
    "lowercase": 1,
    "uppercase": 1,
    "snakecase": 1,
    "kebabcase": 1,
    "titlecase": 1,
    "typeof": 1,
    "bool": 1,
    "string": 1,
    "number": 1,
}
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")
KEYWORDS = {"and", "or", "in", "true", "false", "null"}
MAX_DEPTH = 100

_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_PATH_START = _PATH_CHARS - frozenset("0123456789-")
_DIGITS = frozenset("0123456789")


class FqlError(ValueError):
    """An invalid expression: ``message`` says what is wrong, ``position`` (0-based offset into
    ``text``) where. ``str()`` shows the line with a caret under the position."""

    def __init__(self, message: str, position: int, text: str = ""):
        super().__init__(message, position, text)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        if not self.text:
            return f"{self.message} at position {self.position}"
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        line = self.text[start : end if end != -1 else len(self.text)]
        # Keep tabs so the caret lines up under the same column.
        pad = "".join("\t" if c == "\t" else " " for c in line[: self.position - start])
        return f"{self.message} at position {self.position}:\n  {line}\n  {pad}^"


class GlobError(ValueError):
    """A glob pattern that cannot compile; ``offset`` is the index in the pattern."""

    def __init__(self, message: str, offset: int):
        super().__init__(message, offset)
        self.message = message
        self.offset = offset


def glob_regex(pattern: str) -> str:
    """The regular expression (for ``re.fullmatch``) of an FQL glob: ``*`` any run of characters,
    ``?`` one character, ``[abc]``, ``[a-z]`` and ``[^a-z]`` classes, ``\\x`` the character x.
    Case sensitive; ``/`` is an ordinary character. Inside a class, ``-`` and ``]`` must be
    escaped. Raises GlobError for a pattern that cannot compile."""
    out = ["(?s)"]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if c == "?":
            out.append(".")
        elif c == "\\":
            if i + 1 >= n:
                raise GlobError("the pattern ends with an unfinished escape '\\'", i)
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i = _glob_class(pattern, i, out)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _glob_class(pattern: str, start: int, out: list) -> int:
    """Translates the class opening at ``start``; returns the index after its ``]``."""
    n = len(pattern)
    i = start + 1
    parts = ["[^" if i < n and pattern[i] == "^" else "["]
    if parts[0] == "[^":
        i += 1
    ranges = 0
    while True:
        if i >= n:
            raise GlobError("'[' is never closed by ']'", start)
        if pattern[i] == "]" and ranges:
            out.append("".join(parts) + "]")
            return i + 1
        low, i = _glob_class_char(pattern, i, start)
        high = low
        if i < n and pattern[i] == "-":
            high, i = _glob_class_char(pattern, i + 1, start)
            if high < low:
                raise GlobError(f"the range '{low}-{high}' is reversed", i - 1)
        parts.append(re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}")
        ranges += 1


def _glob_class_char(pattern: str, i: int, start: int) -> tuple[str, int]:
    n = len(pattern)
    if i >= n:
        raise GlobError("'[' is never closed by ']'", start)
    c = pattern[i]
    if c in "-]":
        raise GlobError(f"escape '{c}' inside '[...]' as '\\{c}'", i)
    if c == "\\":
        if i + 1 >= n:
            raise GlobError("the pattern ends with an unfinished escape '\\'", i)
        return pattern[i + 1], i + 2
    return c, i + 1


class _Token:
    __slots__ = ("end", "kind", "offsets", "start", "value", "word")

    def __init__(self, kind, value, start, end, offsets=None, word=None):
        self.kind = kind  # "str", "num", "path", "kw", "eof" or the punctuation itself
        self.value = value
        self.start = start
        self.end = end
        self.offsets = offsets  # strings: the source offset of each decoded character
        self.word = word  # paths: the name when it is one segment without escapes


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    i, n = 0, len(text)

    def fail(message, position):
        raise FqlError(message, position, text)

    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()[],":
            tokens.append(_Token(c, c, i, i + 1))
            i += 1
        elif c == "=":
            if text.startswith("==", i):
                fail("FQL compares with a single '=': write '=' instead of '=='", i)
            tokens.append(_Token("=", "=", i, i + 1))
            i += 1
        elif c == "!":
            if text.startswith("!==", i):
                fail("Write '!=' instead of '!=='", i)
            if text.startswith("!=", i):
                tokens.append(_Token("!=", "!=", i, i + 2))
                i += 2
            else:
                tokens.append(_Token("!", "!", i, i + 1))
                i += 1
        elif c in "<>":
            if text.startswith("<>", i):
                fail("Write '!=' instead of '<>'", i)
            op = c + "=" if text.startswith("=", i + 1) else c
            tokens.append(_Token(op, op, i, i + len(op)))
            i += len(op)
        elif c in "&|":
            word = "and" if c == "&" else "or"
            fail(f"Write '{word}' instead of '{c * 2 if text.startswith(c * 2, i) else c}'", i)
        elif c in "\"'":
            i = _string(text, i, tokens)
        elif c in _DIGITS or c == "-":
            i = _number(text, i, tokens)
        elif c in _PATH_START or c == "\\":
            i = _path(text, i, tokens)
        else:
            hint = "" if c in "\"'`" else f"; a field name needs it escaped as '\\{c}'"
            fail(f"Unexpected character '{c}'{hint}", i)
    tokens.append(_Token("eof", None, n, n))
    return tokens


def _string(text: str, start: int, tokens: list) -> int:
    quote = text[start]
    chars, offsets = [], []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == quote:
            tokens.append(_Token("str", "".join(chars), start, i + 1, offsets))
            return i + 1
        if c == "\\" and i + 1 < n and text[i + 1] in ("\\", '"', "'"):
            chars.append(text[i + 1])
            offsets.append(i)
            i += 2
            continue
        chars.append(c)
        offsets.append(i)
        i += 1
    raise FqlError(f"Unterminated string: no closing {quote} for this one", start, text)


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _number(text: str, start: int, tokens: list) -> int:
    found = _NUMBER.match(text, start)
    if not found:
        raise FqlError("Expected a digit after '-'", start + 1, text)
    end = found.end()
    if text.startswith(".", end):
        if found.group(1):
            raise FqlError("Unexpected '.' after a number", end, text)
        raise FqlError("Expected a digit after '.'", end + 1, text)
    if end < len(text) and (text[end] in _PATH_CHARS or text[end] == "\\"):
        raise FqlError(f"Unexpected character '{text[end]}' in a number", end, text)
    raw = found.group()
    value = float(raw) if found.group(1) or found.group(2) else int(raw)
    if value in (float("inf"), float("-inf")):
        raise FqlError("This number is too large", start, text)
    tokens.append(_Token("num", value, start, end))
    return end


def _path(text: str, start: int, tokens: list) -> int:
    segments, chars = [], []
    escaped = False
    i, n = start, len(text)
    while True:
        c = text[i] if i < n else ""
        if c == "\\":
            if i + 1 >= n:
                raise FqlError("Expected a character to escape after '\\'", i + 1, text)
            chars.append(text[i + 1])
            escaped = True
            i += 2
        elif c and c in _PATH_CHARS:
            chars.append(c)
            i += 1
        elif c == "." and chars:
            nxt = text[i + 1] if i + 1 < n else ""
            if not nxt or not (nxt in _PATH_CHARS or nxt == "\\"):
                raise FqlError(
                    "Expected a field name after '.' (escape other characters with '\\')",
                    i + 1,
                    text,
                )
            segments.append("".join(chars))
            chars = []
            i += 1
        else:
            break
    segments.append("".join(chars))
    word = segments[0] if len(segments) == 1 and not escaped else None
    if word in KEYWORDS:
        tokens.append(_Token("kw", word, start, i))
    else:
        tokens.append(_Token("path", segments, start, i, word=word))
    return i


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    # Tokens.
    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_kw(self, word: str) -> bool:
        return self.token.kind == "kw" and self.token.value == word

    def fail(self, message: str, position: int):
        raise FqlError(message, position, self.text)

    def describe(self, token: _Token) -> str:
        raw = self.text[token.start : token.end]
        if token.kind == "str" and len(raw) <= 33:
            return raw
        return f"'{raw[:30]}...'" if len(raw) > 33 else f"'{raw}'"

    def hint(self, token: _Token) -> str:
        word = token.word if token.kind == "path" else None
        if word == "not":
            return " (negate with '!', for example !(x in [...]))"
        if word and word.lower() in KEYWORDS:
            return f" (keywords are lowercase: '{word.lower()}')"
        return ""

    def unexpected(self, expected: str, after: _Token | None = None):
        token = self.token
        where = f" after {self.describe(after)}" if after is not None else ""
        if token.kind == "eof":
            end = len(self.text.rstrip())
            self.fail(f"Expected {expected}{where}, but the expression ends", end)
        self.fail(
            f"Expected {expected}{where}, found {self.describe(token)}{self.hint(token)}",
            token.start,
        )

    def enter(self, token: _Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"The expression nests more than {MAX_DEPTH} levels deep", token.start)

    # Grammar.
    def expression(self) -> list:
        node = self.or_()
        token = self.token
        if token.kind != "eof":
            previous = self.tokens[self.index - 1]
            if token.kind == ")":
                self.fail("This ')' has no matching '('", token.start)
            hint = self.hint(token) or self.hint(previous)
            self.fail(
                f"Expected 'and', 'or' or the end of the expression, found "
                f"{self.describe(token)}{hint}",
                token.start,
            )
        return node

    def or_(self) -> list:
        operands = [self.and_()]
        while self.is_kw("or"):
            after = self.advance()
            self.need_value(after)
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else ["or", *operands]

    def and_(self) -> list:
        operands = [self.comparison()]
        while self.is_kw("and"):
            after = self.advance()
            self.need_value(after)
            operands.append(self.comparison())
        return operands[0] if len(operands) == 1 else ["and", *operands]

    def comparison(self) -> list:
        left = self.unary()
        token = self.token
        if token.kind in COMPARISONS or (token.kind == "kw" and token.value == "in"):
            op = self.advance()
            self.need_value(op)
            right_token = self.token
            right = self.unary()
            if op.value == "in" and right[0] == "lit":
                self.fail(
                    "'in' needs a list on its right, such as ['a', 'b'], or a field holding one",
                    right_token.start,
                )
            nxt = self.token
            if nxt.kind in COMPARISONS or (nxt.kind == "kw" and nxt.value == "in"):
                self.fail(
                    f"Comparisons do not chain: join them with 'and' before {self.describe(nxt)}",
                    nxt.start,
                )
            return [op.value, left, right]
        return left

    def unary(self) -> list:
        if self.token.kind == "!":
            bang = self.advance()
            self.enter(bang)
            self.need_value(bang)
            node = ["!", self.unary()]
            self.depth -= 1
            return node
        return self.primary()

    def need_value(self, after: _Token):
        """Fails unless the current token can start a value."""
        token = self.token
        if token.kind in ("str", "num", "path", "(", "[", "!"):
            return
        if token.kind == "kw" and token.value in ("true", "false", "null"):
            return
        self.unexpected("a value", after)

    def primary(self) -> list:
        token = self.token
        kind = token.kind
        if kind == "(":
            self.advance()
            self.enter(token)
            self.need_value(token)
            node = self.or_()
            if self.token.kind != ")":
                self.unexpected(f"')' to close the '(' opened at position {token.start}")
            self.advance()
            self.depth -= 1
            return node
        if kind == "[":
            return self.list_(token)
        if kind == "str" or kind == "num":
            self.advance()
            return ["lit", token.value]
        if kind == "kw" and token.value in ("true", "false", "null"):
            self.advance()
            return ["lit", {"true": True, "false": False, "null": None}[token.value]]
        if kind == "path":
            self.advance()
            if self.token.kind == "(" and token.word is not None:
                return self.call(token)
            return ["path", *token.value]
        self.unexpected("a value")

    def list_(self, opening: _Token) -> list:
        self.advance()
        self.enter(opening)
        items = []
        if self.token.kind != "]":
            self.need_value(opening)
            items.append(self.or_())
            while self.token.kind == ",":
                comma = self.advance()
                self.need_value(comma)
                items.append(self.or_())
        if self.token.kind != "]":
            self.unexpected(f"',' or ']' in the list opened at position {opening.start}")
        self.advance()
        self.depth -= 1
        return ["list", *items]

    def call(self, name: _Token) -> list:
        function = name.word
        if function not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            self.fail(f"Unknown function '{function}'; FQL's functions are: {known}", name.start)
        opening = self.advance()
        self.enter(opening)
        args, arg_tokens = [], []
        if self.token.kind != ")":
            self.need_value(opening)
            arg_tokens.append(self.token)
            args.append(self.or_())
            while self.token.kind == ",":
                comma = self.advance()
                self.need_value(comma)
                arg_tokens.append(self.token)
                args.append(self.or_())
        if self.token.kind != ")":
            self.unexpected(f"',' or ')' in the call to '{function}' at position {name.start}")
        self.advance()
        self.depth -= 1
        arity = FUNCTIONS[function]
        if len(args) != arity:
            given = f"{len(args)} were given" if len(args) != 1 else "1 was given"
            plural = "argument" if arity == 1 else "arguments"
            self.fail(f"'{function}' takes {arity} {plural}, but {given}", name.start)
        if function == "match" and args[1][0] == "lit" and isinstance(args[1][1], str):
            pattern = arg_tokens[1]
            try:
                glob_regex(args[1][1])
            except GlobError as error:
                offsets = pattern.offsets or []
                at = offsets[error.offset] if error.offset < len(offsets) else pattern.start
                self.fail(f"Invalid glob pattern: {error.message}", at)
        return ["call", function, *args]


def parse(text: str) -> list:
    """Parses an FQL expression into its AST (see the module docstring); raises FqlError."""
    if not isinstance(text, str):
        raise FqlError("The expression must be a string", 0)
    if not text.strip():
        raise FqlError("The expression is empty; write 'all' to match every event", 0, text)
    if text.strip() == "all":
        return ["all"]
    return _Parser(text).expression()
