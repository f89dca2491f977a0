"""Matchers: what suggests a field's classification in the Privacy Inbox. No Django here:
discovery, the console and the admin all ask this module (and ``privacy.matcher_rules`` what a
workspace's own matcher may be).

A matcher looks at a field's key (its path's last segment, normalized so that ``firstName``,
``first_name``, ``first-name`` and ``First Name`` read alike), at the field's sample values, or
both. The built-in list follows Segment's default PII matchers and their colours
(https://segment.com/docs/privacy/portal/#default-pii-matchers). When several match, the
strictest classification wins; at equal strictness a whole-key match beats a partial one.
"""

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

RED, YELLOW, GREEN = "red", "yellow", "green"
SEVERITY = {GREEN: 0, YELLOW: 1, RED: 2}

KEY, VALUE = "key", "value"
# A value is examined only this far: with the limits a custom pattern is held to
# (``privacy.matcher_rules``), every match runs in a bounded time whatever the data.
MAX_VALUE_LENGTH = 100


# Keys.

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def key_words(key: str) -> tuple[str, ...]:
    """A key as lower-case words: snake, camel, kebab case and spaces alike (``firstName``,
    ``first_name``, ``First Name`` → ``("first", "name")``). Trailing numbers go
    (``address_line_2``, ``street2``): they number a field, they do not name it."""
    spaced = _CAMEL.sub(" ", key.replace("'", ""))
    words = [w for w in _SEPARATORS.split(spaced.lower()) if w]
    while words and words[-1].isdigit() and len(words) > 1:
        words.pop()
    return tuple(words)


def normalized_key(key: str) -> str:
    """The key as custom matchers' patterns see it: words separated by single spaces."""
    return " ".join(key_words(key))


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u", ""):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _phrases(names: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """Each name as words, with its joined form (``firstname``) and its plural (arrays of
    emails are often called ``emails``)."""
    phrases = set()
    for name in names:
        words = key_words(name)
        if not words:
            continue
        for form in (words, (*words[:-1], _plural(words[-1]))):
            phrases.add(form)
            phrases.add(("".join(form),))
    return frozenset(phrases)


# Values.


def _examined(value: str) -> str:
    return value[:MAX_VALUE_LENGTH].strip()


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE_NANP = re.compile(r"\(?\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}")
_PHONE_INTERNATIONAL = re.compile(r"\+\d[\d ().\-]{6,22}")
_CARD = re.compile(r"\d(?:[ \-]?\d){12,18}")
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}([ \-])(?!00)\d{2}\1(?!0000)\d{4}")


def looks_like_email(value: str) -> bool:
    return _EMAIL.fullmatch(_examined(value)) is not None


def looks_like_phone(value: str) -> bool:
    """A formatted North American number (``(555) 555-0100``) or an international one with its
    ``+``. Bare digit strings are not phones here: order ids and timestamps look the same."""
    value = _examined(value)
    if _PHONE_NANP.fullmatch(value):
        return True
    if _PHONE_INTERNATIONAL.fullmatch(value):
        return 8 <= sum(c.isdigit() for c in value) <= 15
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_brand_prefix(digits: str) -> bool:
    """Issuers' ranges (Visa 4, Mastercard 51 to 55 and 2221 to 2720, Amex 34/37, Diners 30/36/38/39,
    Discover and UnionPay 6, JCB 35): a Luhn check alone passes one random number in ten."""
    if digits[0] in "3456":
        return True
    return 2221 <= int(digits[:4]) <= 2720


def looks_like_card_number(value: str) -> bool:
    value = _examined(value)
    if not _CARD.fullmatch(value):
        return False
    digits = re.sub(r"\D", "", value)
    return _card_brand_prefix(digits) and len(set(digits)) > 1 and _luhn(digits)


def looks_like_ssn(value: str) -> bool:
    """A US social security number as written (``078-05-1120``), in the ranges ever issued."""
    return _SSN.fullmatch(_examined(value)) is not None


def looks_like_ip(value: str) -> bool:
    """An IPv4 address (four numbers: ``2.4.0`` is a version) or an IPv6 address."""
    value = _examined(value)
    if not (":" in value or value.count(".") == 3):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# Matchers.


@dataclass(frozen=True)
class Matcher:
    """``keys`` match the whole key (only under the parents ``keys_under`` names, if any);
    ``endings`` also match a key that ends with them (``billing city``, ``work email``);
    ``key_patterns`` search the normalized key; ``value`` checks a sample value."""

    name: str
    classification: str
    keys: frozenset = frozenset()
    keys_under: frozenset = frozenset()
    endings: frozenset = frozenset()
    key_patterns: tuple[re.Pattern, ...] = ()
    value: Callable[[str], bool] | None = None
    builtin: bool = True
    examples: str = ""  # what the Matchers page shows it matching

    @property
    def on_key(self) -> bool:
        return bool(self.keys or self.endings or self.key_patterns)

    @property
    def matches_on(self) -> str:
        if self.on_key and self.value:
            return "Key and value"
        return "Value" if self.value else "Key"

    def key_strength(self, words: tuple[str, ...], parent: str = "") -> int:
        """2: the whole key; 1: its ending or a pattern; 0: no match. ``parent``: the path the
        key sits under (``traits``, ``context.device``)."""
        if not words:
            return 0
        joined = ("".join(words),)
        keys = self.keys if not self.keys_under or parent in self.keys_under else ()
        if words in keys or joined in keys or words in self.endings or joined in self.endings:
            return 2
        if any(len(e) < len(words) and words[-len(e) :] == e for e in self.endings):
            return 1
        text = " ".join(words)
        if any(p.search(text) for p in self.key_patterns):
            return 1
        return 0

    def matches_value(self, value: str) -> bool:
        return self.value is not None and self.value(value)


def _builtin(name, classification, keys=(), endings=(), value=None, examples="", under=()):
    return Matcher(
        name,
        classification,
        keys=_phrases(keys),
        keys_under=frozenset(under),
        endings=_phrases(endings),
        value=value,
        examples=examples,
    )


# Segment's default list, in its order (the doc lists "email" and "gender" twice: once here).
BUILTIN: tuple[Matcher, ...] = (
    _builtin("social security number", RED,
             endings=["social security number", "social security no", "social security", "ssn",
                      "ss number"],
             value=looks_like_ssn, examples="ssn, socialSecurityNumber; 078-05-1120"),
    _builtin("password", RED,
             endings=["password", "passwd", "pwd", "passcode", "password hash",
                      "password confirmation"],
             examples="password, newPassword"),
    _builtin("visa", RED, endings=["visa", "visa number", "visa status", "visa type"],
             examples="visa, visaStatus"),
    _builtin("veteran", RED, endings=["veteran", "veteran status"],
             examples="veteran, veteranStatus"),
    _builtin("disability", RED, endings=["disability", "disability status", "disability type"],
             examples="disability"),
    _builtin("credit card", RED,
             endings=["credit card", "credit card number", "credit card no", "card number", "ccn",
                      "cc number", "cc num", "pan"],
             value=looks_like_card_number, examples="ccn, cardNumber; 4111 1111 1111 1111"),
    _builtin("passport", RED, endings=["passport", "passport number", "passport no", "passport id"],
             examples="passport, passportNumber"),
    _builtin("token", RED,
             endings=["token", "access token", "auth token", "refresh token", "api key",
                      "secret key", "client secret"],
             examples="token, accessToken, context.device.token"),
    _builtin("race", YELLOW, keys=["race"], endings=["racial origin"], examples="race"),
    _builtin("birthdate", YELLOW,
             endings=["birthdate", "birth date", "birthday", "date of birth", "dob"],
             examples="birthday, dateOfBirth, dob"),
    _builtin("phone", YELLOW,
             endings=["phone", "phone number", "phone no", "telephone", "tel", "mobile number",
                      "mobile phone", "cell phone", "cell number"],
             value=looks_like_phone, examples="phone, mobileNumber; +44 20 7946 0958"),
    _builtin("address", YELLOW,
             endings=["address", "street address", "postal address", "mailing address",
                      "address line"],
             examples="address, billingAddress, addressLine1"),
    _builtin("gender", YELLOW, endings=["gender", "gender identity"], examples="gender"),
    _builtin("ethnicity", YELLOW, endings=["ethnicity", "ethnic origin", "ethnic group"],
             examples="ethnicity"),
    _builtin("citizenship", YELLOW, endings=["citizenship", "nationality"],
             examples="citizenship, nationality"),
    # A bare "name" is a person's only among a user's traits: elsewhere it names a product, a
    # page, a library (context.library.name) or an operating system.
    _builtin("name", YELLOW, keys=["name"], under=["traits", "context.traits"],
             endings=["first name", "last name", "full name", "middle name", "given name",
                      "family name", "surname", "maiden name"],
             examples="traits.name, firstName, last_name, Full Name"),
    _builtin("street", YELLOW, endings=["street", "street name"], examples="street"),
    _builtin("city", YELLOW, endings=["city", "town"], examples="city, billingCity"),
    _builtin("zipcode", YELLOW,
             endings=["zipcode", "zip code", "zip", "postal code", "postcode", "post code"],
             examples="zip, zipCode, postalCode"),
    _builtin("email", YELLOW, endings=["email", "email address", "e mail", "e mail address"],
             value=looks_like_email, examples="email, workEmail; jane@example.com"),
    _builtin("certificate", YELLOW, endings=["certificate", "certificate number"],
             examples="certificate"),
    _builtin("license", YELLOW,
             endings=["license", "licence", "license number", "drivers license", "driver license",
                      "license plate"],
             examples="license, driversLicense"),
    _builtin("identification", YELLOW,
             endings=["identification", "identification number", "national id", "id number",
                      "tax id", "government id"],
             examples="identification, nationalId, taxId"),
    _builtin("serial", YELLOW, endings=["serial", "serial number", "serial no"],
             examples="serial, serialNumber"),
    _builtin("ip", YELLOW, endings=["ip", "ip address", "ipv"], value=looks_like_ip,
             examples="ip, context.ip; 203.0.113.7, 2001:db8::1"),
    _builtin("photo", YELLOW,
             endings=["photo", "photo url", "photograph", "avatar", "profile picture", "picture"],
             examples="photo, avatar"),
    _builtin("salary", YELLOW, endings=["salary", "income", "annual income", "wage"],
             examples="salary, income"),
    _builtin("religion", YELLOW,
             endings=["religion", "religious affiliation", "religious belief"],
             examples="religion"),
    _builtin("mac", YELLOW, endings=["mac", "mac address"], examples="mac, macAddress"),
    _builtin("sex", YELLOW, keys=["sex"], endings=["biological sex", "sex at birth"],
             examples="sex"),
    _builtin("sexual orientation", YELLOW, endings=["sexual orientation"],
             examples="sexualOrientation"),
    _builtin("medication", YELLOW, endings=["medication", "prescription"],
             examples="medications, prescription"),
    _builtin("allergy", YELLOW, endings=["allergy"], examples="allergies"),
    _builtin("condition", YELLOW, keys=["condition"],
             endings=["medical condition", "health condition"],
             examples="condition, medicalCondition"),
    _builtin("diagnosis", YELLOW, endings=["diagnosis", "diagnoses", "diagnosis code"],
             examples="diagnosis"),
    _builtin("procedure", YELLOW, keys=["procedure"],
             endings=["medical procedure", "procedure code"], examples="procedure"),
)  # fmt: skip
BUILTIN_NAMES = frozenset(m.name for m in BUILTIN)


# Custom matchers.

# Key patterns: names and synonyms separated by commas, or a regular expression between slashes
# (which may itself hold commas or an escaped slash).
_KEY_ITEM = re.compile(r"\s*(/(?:\\.|[^/\\])*/|[^,]*)\s*(?:,|$)")


def key_items(pattern: str) -> tuple[list[str], list[str]]:
    """(names, regular expressions) of a key matcher's pattern."""
    names, regexes = [], []
    for match in _KEY_ITEM.finditer(pattern):
        item = match.group(1).strip()
        if len(item) >= 2 and item.startswith("/") and item.endswith("/"):
            regexes.append(item[1:-1])
        elif item:
            names.append(item)
    return names, regexes


def custom(name: str, classification: str, match_on: str, pattern: str) -> Matcher:
    """A workspace's matcher from its stored row (checked by ``matcher_rules.refuse_matcher``). A
    key matcher matches its own name too, as Segment's do."""
    if match_on == KEY:
        names, regexes = key_items(pattern)
        return Matcher(
            name,
            classification,
            keys=_phrases([name, *names]),
            key_patterns=tuple(re.compile(r, re.IGNORECASE) for r in regexes),
            builtin=False,
            examples=pattern,
        )
    compiled = re.compile(pattern)
    return Matcher(
        name,
        classification,
        value=lambda value: compiled.search(value[:MAX_VALUE_LENGTH]) is not None,
        builtin=False,
        examples=pattern,
    )


# Suggestions.


@dataclass(frozen=True)
class Suggestion:
    classification: str
    matcher: str  # its name; "" when none matched


NO_MATCH = Suggestion(GREEN, "")


def suggest(path: str, values: Iterable[str] = (), matchers: Iterable[Matcher] = BUILTIN):
    """The strictest classification the matchers give the field at ``path`` with these sample
    values; Green with no matcher when none matches."""
    parent, _, key = path.rpartition(".")
    words = key_words(key)
    values = [v for v in values if v]
    best, best_rank = NO_MATCH, (-1, 0)
    for matcher in matchers:
        strength = matcher.key_strength(words, parent)
        if not strength and matcher.value and any(matcher.matches_value(v) for v in values):
            strength = 1
        rank = (SEVERITY[matcher.classification], strength)
        if strength and rank > best_rank:
            best, best_rank = Suggestion(matcher.classification, matcher.name), rank
    return best


def stricter(a: Suggestion, b: Suggestion) -> Suggestion:
    """The stricter of two suggestions; ``a`` at equal strictness."""
    return b if SEVERITY[b.classification] > SEVERITY[a.classification] else a
