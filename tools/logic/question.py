"""What a logic problem asks, in the wordings people and benchmarks use: the statement to decide.

A problem's text is premises and a question about one statement. The question may come in many forms, and the
statement is what the tool translates and proves, so it must be found exactly:

- marked: "Conclusion: …", "Hypothesis: …", "Statement: …", "Claim: …" (on a line of its own or after a sentence);
- embedded: "Is it true that …?", "Does it follow that …?", "Can we conclude that …?", "Is it the case that …?";
- an answer format before it: "True or false: …", "Is the following statement true, false, or unknown? …";
- an answer format after it: "… True, false, or unknown?", "Bob is strong — true or false?";
- a yes/no question: "Is Bob strong?", "Does the cat chase the dog?", "Can penguins fly?", turned into the
  statement it asks about ("Bob is strong", "The cat chases the dog"), which is what the translator was taught.

`split` returns the premises' text, the statement (None when the text asks nothing the reader can find), and
whether the question was asked in a reasoning problem's own words (the router is sure of those).
The answer is about that statement: True (it follows), False (its negation follows) or Unknown.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# "true, false, or unknown", "true or false", "yes or no", "true/false/uncertain" …: how the answer is to be given.
_FORMAT = (r"(?:true|yes|correct)\s*(?:,|/)?\s*(?:or\s+)?(?:false|no|incorrect)"
           r"(?:\s*(?:,|/)?\s*(?:or\s+)?(?:unknown|uncertain|undetermined|cannot be determined|can't (?:be )?(?:tell|determined)|"
           r"neither|not enough information))?")
_FORMAT_RE = re.compile(rf"\b{_FORMAT}\b", re.I)
_LEAD = r"(?:based on (?:the|these|this|all|above)[^,?:]*,\s*|given (?:the|these|this|all|above)[^,?:]*,\s*|(?:so|then|therefore|thus|now)\b,?\s*)?"
# A marker and the statement after it.
_MARKED = re.compile(r"(?:^|(?<=[.!?])\s+|\n)\s*(?:conclusion|hypothesis|statement|claim|query)\s*:\s*(?P<s>.+?)\s*$",
                     re.I | re.DOTALL)
# A question whose clause after "that" (or "whether") is the statement.
_EMBEDDED = re.compile(
    rf"(?:^|(?<=[.!?:])\s+|\n)\s*(?:question\s*:\s*)?{_LEAD}(?:is it (?:{_FORMAT}|true|the case|correct|so)|does it (?:logically )?follow|"
    r"can (?:we|one|you|it be) (?:logically )?(?:conclude|infer|deduce|say|determine|concluded|inferred|deduced)(?: with certainty)?|"
    r"must it (?:be true|follow|be the case)|would it (?:be true|follow)|do(?:es)? (?:the|these|this) (?:premises?|facts?|"
    r"statements?|information|context|above) (?:imply|entail|show|prove|support)|is it (?:provable|entailed|implied)|"
    r"(?:decide|determine|tell me|say) (?:whether|if)|prove|show)\s+(?:that|whether|if)?\s*(?P<s>.+?)\s*(?:[?.!]|$)",
    re.I | re.DOTALL)
# An answer format first, the statement after it: "True or false: X", "Is the following statement true or false? X".
_FORMAT_FIRST = re.compile(
    rf"(?:^|(?<=[.!?])\s+|\n)\s*(?:question\s*:\s*)?{_LEAD}(?:(?:is|are|decide (?:whether|if)|determine (?:whether|if)|say (?:whether|if)) "
    rf"(?:the )?(?:following|this|next|given|last) (?:statement|sentence|claim|conclusion|hypothesis)s?(?: is)? |"
    rf"(?:answer|reply|respond)(?: with)? )?(?:{_FORMAT})\s*[?:.\-–—]+\s*(?P<s>[^?]+?)\s*[.!]?\s*$", re.I | re.DOTALL)
# "Does the following follow? X", "Which is it for: X"
_FOLLOWING = re.compile(rf"(?:^|(?<=[.!?])\s+|\n)\s*{_LEAD}(?:does|is|can) (?:the )?following(?: statement| conclusion| claim)? "
                        r"(?:follow|hold|be (?:concluded|inferred|deduced))[^?:]*[?:]\s*(?P<s>[^?]+?)\s*[.!]?\s*$", re.I | re.DOTALL)
# "Does R follow?", "Does it follow from the premises that …" is _EMBEDDED's; "What is the truth value of p?"
_DOES_FOLLOW = re.compile(rf"(?:^|(?<=[.!?:])\s+|\n)\s*{_LEAD}(?:does|do|would|must) (?P<s>(?!it\b).+?) (?:logically |then |necessarily )?"
                          r"(?:follow|hold|be true)(?: from [^?]*)?\s*\?\s*$", re.I | re.DOTALL)
_TRUTH_VALUE = re.compile(rf"(?:^|(?<=[.!?:,])\s+|\n)\s*{_LEAD}(?:what is|what's|determine|find|give) the truth(?:-| )value of "
                          r"(?P<s>.+?)\s*[?.!]?\s*$", re.I | re.DOTALL)
# The statement, then its answer format: "Bob is strong. True or false?", "Bob is strong — true, false, or unknown?"
_FORMAT_LAST = re.compile(rf"(?:\s*[,:;\-–—(]\s*|\s+)(?:is (?:it|this|that)\s+|is (?:the|this) statement\s+)?(?:{_FORMAT})\s*\)?\s*[?.!]*\s*$", re.I)
_FORMAT_SENTENCE = re.compile(rf"^\s*(?:question\s*:\s*)?(?:(?:is|are) (?:it|this|that|the (?:above|last|previous|following) "
                              rf"(?:statement|sentence|claim|conclusion)) )?(?:{_FORMAT})\s*[?.!]*\s*$", re.I)
# A quoted statement in the question: 'Is the statement "Bob is strong" true or false?'
_QUOTED = re.compile(r"(?:^|(?<=[.!?])\s+|\n)\s*[^.!?\n\"“]*[\"“](?P<s>[^\"”]+?)[\"”][^\"”.!?]*[.!?]*\s*$")
_WH = re.compile(r"^(?:which|what|who|whom|whose|where|when|why|how)\b", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_QUESTION_LABEL = re.compile(r"^\s*(?:question|q)\s*:\s*", re.I)
_PREAMBLE = re.compile(r"^\s*(?:premises|context|facts|rules|story|given|theory)\s*:\s*", re.I | re.MULTILINE)


class Asked(NamedTuple):
    premises: str  # the text before (and around) the question
    statement: str | None  # the statement asked about; None when the text asks nothing the reader can find
    explicit: bool  # asked in a reasoning problem's own words (a marker, "does it follow", "true or false"), not a bare yes/no question


def split(text: str) -> Asked:
    """The premises' text and the statement asked about."""
    text = text.strip()
    for pattern in (_MARKED, _QUOTED, _FORMAT_FIRST, _FOLLOWING, _EMBEDDED, _DOES_FOLLOW, _TRUTH_VALUE):
        if (match := pattern.search(text)) and match["s"].strip(" .!?"):
            premises = text[: match.start()] + text[match.end():]
            return Asked(_premises(premises), _statement(match["s"]), explicit=pattern is not _QUOTED or bool(_FORMAT_RE.search(text)))
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    explicit = True
    if sentences and _FORMAT_SENTENCE.match(sentences[-1]):
        sentences = sentences[:-1]  # "… Is Bob strong? True, false, or unknown?": the sentence before is asked about
    elif sentences and (bare := _FORMAT_LAST.sub("", sentences[-1])) != sentences[-1] and bare.strip():
        sentences[-1] = bare  # "Bob is strong — true or false?"
    elif not sentences or not sentences[-1].endswith("?"):
        return Asked(_premises(text), None, explicit=False)
    else:
        explicit = False  # a yes/no question: "Is Anne sad?"
    if not sentences:
        return Asked("", None, explicit=False)
    return Asked(_premises(" ".join(sentences[:-1])), _statement(sentences[-1]), explicit)


def _statement(text: str) -> str | None:
    statement = _clean(text)
    return None if _WH.match(statement) else _declarative(statement)


def _premises(text: str) -> str:
    return _PREAMBLE.sub("", text).strip()


def _clean(statement: str) -> str:
    statement = _QUESTION_LABEL.sub("", statement.strip()).rstrip(" .!?")
    statement = re.sub(rf"^{_LEAD}", "", statement, flags=re.I)
    statement = re.sub(r"[\"'”’]+\s*(?:is\s+)?(?:true|false|correct)$", "", statement, flags=re.I)
    return statement.strip(" \"'“‘”’")


# ---- a yes/no question as the statement it asks about -----------------------------------------------------

_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "every", "each", "all", "some", "no", "any", "my", "his",
                "her", "their", "our", "its", "most", "many", "few"}
_PRONOUNS = {"someone", "something", "everyone", "everything", "anyone", "anything", "nobody", "nothing", "somebody",
             "everybody", "anybody", "he", "she", "it", "they", "we", "you", "i"}
# Words that begin a predicate after the subject's words ("Is the cat not red", "Is the dog in the house").
_PREDICATE_START = {"not", "a", "an", "the", "more", "less", "very", "in", "on", "at", "to", "from", "with", "of", "both", "either",
                    "neither", "also", "really", "always", "never", "still", "able", "allowed", "taller", "smaller"}
_AUXILIARY = re.compile(r"^(?P<aux>is|are|was|were|does|do|did|can|could|will|would|should|must|may|might|has|have|had)"
                        r"(?P<neg>n't| not)?\s+(?P<rest>.+)$", re.I)
_THIRD_PERSON = {"have": "has", "do": "does", "go": "goes", "be": "is"}


def _declarative(statement: str) -> str:
    """ "Is Bob strong" -> "Bob is strong"; "Does the cat chase the dog" -> "The cat chases the dog"; a statement as it is."""
    match = _AUXILIARY.match(statement.strip())
    if not match:
        return statement
    # "Is Bob not strong" asks about "Bob is not strong"; "Isn't Bob strong" about "Bob is strong".
    aux, negated, words = match["aux"].lower(), match["neg"] == " not", match["rest"].split()
    subject = _subject(words, verb_follows=aux in ("does", "do", "did"))
    if not subject or subject >= len(words):
        return statement
    head, rest = " ".join(words[:subject]), words[subject:]
    if rest and rest[0].lower() == "not":
        negated, rest = True, rest[1:]
    if not rest:
        return statement
    head = head[:1].upper() + head[1:]
    if aux in ("does", "do") and not negated:
        return " ".join([head, _third_person(rest[0]) if aux == "does" else rest[0], *rest[1:]])
    return " ".join([head, aux + (" not" if negated else ""), *rest])


def _subject(words: list[str], *, verb_follows: bool) -> int:
    """How many of `words` (after the auxiliary) name the subject."""
    first = words[0]
    if first.lower() in _PRONOUNS:
        return 1
    if first[:1].isupper() and first.lower() not in _DETERMINERS:
        n = 1
        while n < len(words) - 1 and words[n][:1].isupper():
            n += 1  # "Is Harry Potter a wizard"
        return n
    if first.lower() not in _DETERMINERS:
        return 1 if len(words) > 1 else 0  # "Are penguins birds", "Do cats purr"
    # A determiner: the noun phrase runs to the word before the predicate's first word.
    for n in range(2, len(words)):
        word = words[n].lower()
        if word in _PREDICATE_START or (word.endswith("er") and n + 1 < len(words) and words[n + 1].lower() == "than"):
            return n if not verb_follows or word == "not" else n - 1
        if verb_follows and (word in _DETERMINERS or words[n][:1].isupper()):
            return n - 1  # "Does the bald eagle chase the dog": the verb is the word before the object
    return len(words) - 1  # "Is the bald eagle big": the last word is the predicate


def _third_person(verb: str) -> str:
    lower = verb.lower()
    if lower in _THIRD_PERSON:
        return _THIRD_PERSON[lower]
    if re.search(r"(?:s|sh|ch|x|z|o)$", lower):
        return verb + "es"
    if re.search(r"[^aeiou]y$", lower):
        return verb[:-1] + "ies"
    return verb + "s"
