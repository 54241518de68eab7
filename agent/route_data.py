"""Messages to train the learned router on, a label each: mined from the training side of ../shared/data and
generated, in the many ways people write them.

- kg: MetaQA questions (the planner's training side), the entity unmarked and marked, with chat around them.
- logic: ProofWriter train stories, FOLIO train stories and logical-deduction train puzzles, cut to a few
  sentences and asked in many wordings (true or false, does it follow, a bare yes/no question, options).
- induce: SyGuS string examples (training side) and generated number and list functions, written as arrows,
  `f(1)=2`, input/output tables or prose, with a question or not.
- regress: generated tables of numbers: headers, CSV, aligned columns, `x=1 y=2, …`, with a request or not.
- none: what else people send a chat service: greetings, general knowledge, advice, coding, opinions, arithmetic,
  personal stories that end in a question, and questions about films or people that ask for an opinion.

Nothing here comes from the routing sets in bench/, which measure the router.
"""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

from kg.questions import is_held_out
from tools.logic.pairs import held_out as logic_held_out

LABELS = ["kg", "logic", "induce", "regress", "none"]


def messages(data: Path, per_label: int = 1200, seed: int = 0) -> list[tuple[str, str]]:
    """(message, label) pairs, `per_label` of each label, shuffled."""
    rng = random.Random(seed)
    out = []
    for label, make in (("kg", _kg), ("logic", _logic), ("induce", _induce), ("regress", _regress), ("none", _none)):
        made = make(rng, data, per_label)
        out += [(m, label) for m in made[:per_label]]
    rng.shuffle(out)
    return out


# ---- kg -------------------------------------------------------------------------------------------

_CHAT_BEFORE = ["", "", "", "hey, ", "quick question: ", "can you tell me ", "do you know ", "I was wondering, ", "please tell me ",
                "hi! ", "so ", "ok, ", "I'd like to know "]
_CHAT_AFTER = ["", "", "", "?", " please", ", thanks", "? thank you", " if you know", "?!"]


def _kg(rng: random.Random, data: Path, n: int) -> list[str]:
    lines = []
    for hops in (1, 2, 3):
        path = data / "metaqa" / f"qa_{hops}hop_dev.txt"
        lines += [(f"{hops}-{i}", line.split("\t")[0]) for i, line in enumerate(path.read_text().splitlines()) if "\t" in line]
    lines = [(key, q) for key, q in lines if not is_held_out(key)]
    out = []
    for _, question in rng.sample(lines, min(n, len(lines))):
        if rng.random() < 0.6:
            question = re.sub(r"\[([^\]]+)\]", lambda m: _cased(rng, m.group(1)), question)
        question = rng.choice(_CHAT_BEFORE) + question + rng.choice(_CHAT_AFTER)
        out.append(question[:1].upper() + question[1:] if rng.random() < 0.4 else question)
    return out


def _cased(rng: random.Random, name: str) -> str:
    return name.title() if rng.random() < 0.5 else name


# ---- logic ------------------------------------------------------------------------------------------

_EXPLICIT = ["True, false, or unknown: {s}.", "{s}. True, false, or unknown?", "Is the following statement true or false? {s}.",
             "Based on the above, is the following statement true, false, or uncertain? {s}.", "Does it follow that {lower}?",
             "Can we conclude that {lower}?", "Is it true that {lower}?", "Conclusion: {s}.", "Hypothesis: {s}.",
             "True or false: {lower}.", "Question: is it the case that {lower}?", "Must it be true that {lower}?",
             "Decide whether {lower}.", "Given these facts, can we infer that {lower}?", "{s} — true or false?",
             "Statement: {s}. Is it true, false, or unknown?", "Do the premises imply that {lower}?"]


def _yes_no(statement: str) -> str | None:
    """ "Bob is red" -> "Is Bob red?"; "The cat chases the dog" -> "Does the cat chase the dog?"."""
    words = statement.rstrip(".").split()
    for i, word in enumerate(words[1:], 1):
        if word in ("is", "are"):
            return " ".join([word.capitalize(), words[0].lower() if words[0] == "The" else words[0], *words[1:i], *words[i + 1:]]) + "?"
        if word.endswith("s") and i <= 3 and word not in ("was", "has"):
            subject = " ".join(words[:i])
            subject = subject[:1].lower() + subject[1:] if subject.startswith("The ") else subject
            return f"Does {subject} {word[:-1]} {' '.join(words[i + 1:])}".rstrip() + "?"
    return None


def _ask(rng: random.Random, premises: list[str], statement: str) -> str:
    statement = statement.rstrip(".")
    lower = statement[:1].lower() + statement[1:] if statement.split()[0] in ("The", "A", "All", "Some", "No", "If") else statement
    question = _yes_no(statement) if rng.random() < 0.5 else None
    question = question or rng.choice(_EXPLICIT).format(s=statement, lower=lower)
    joiner = rng.choice([" ", "\n", " ", "\n\n"])
    lead = rng.choice(["", "", "", "Premises: ", "Facts: ", "Here is a puzzle. ", "Given: "])
    return lead + " ".join(premises) + joiner + question


def _logic(rng: random.Random, data: Path, n: int) -> list[str]:
    out = []
    proofwriter = json.loads((data / "proofwriter" / "train.json").read_text())
    for item in rng.sample(proofwriter, min(len(proofwriter), n // 2)):
        sentences = re.findall(r"[^.]+\.", item["context"])
        cut = sorted(rng.sample(range(len(sentences)), min(len(sentences), rng.randint(1, 6))))
        statement = item["question"].rsplit("?", 1)[-1].strip()
        out.append(_ask(rng, [sentences[i].strip() for i in cut], statement))
    folio = [json.loads(line) for line in (data / "folio" / "folio-train.jsonl").read_text().splitlines() if line.strip()]
    folio = [row for row in folio if not logic_held_out("folio", str(row["story_id"]))]
    for row in rng.sample(folio, min(len(folio), n // 3)):
        out.append(_ask(rng, row["premises"] if isinstance(row["premises"], list) else [row["premises"]], row["conclusion"]))
    deduction = json.loads((data / "logical_deduction" / "train.json").read_text())
    deduction = [item for item in deduction if not logic_held_out("deduction", str(item.get("id", "")))]
    for item in rng.sample(deduction, min(len(deduction), n - len(out))):
        context = item["context"].split("\n\n", 1)[-1]
        out.append(context + "\n" + rng.choice(["Which of the following is true?", "Which option must hold?", "Options:", ""]) + "\n"
                   + "\n".join(item["options"]))
    return out


# ---- induce -------------------------------------------------------------------------------------------

_ARROWS = [" -> ", " → ", " => ", ": ", " gives ", " becomes ", " maps to "]


def _render_examples(rng: random.Random, pairs: list[tuple[str, str]], query: str | None) -> str:
    style = rng.randrange(5)
    quote = rng.choice(["", "", '"']) if style != 3 else ""
    q = lambda s: f"{quote}{s}{quote}"  # noqa: E731
    if style == 0:
        arrow = rng.choice(_ARROWS)
        body = rng.choice([", ", "; ", "\n"]).join(f"{q(a)}{arrow}{q(b)}" for a, b in pairs)
    elif style == 1:
        body = "\n".join(f"Input: {q(a)} Output: {q(b)}" for a, b in pairs)
    elif style == 2:
        name = rng.choice(["f", "g", "h"])
        body = ", ".join(f"{name}({a}) = {b}" for a, b in pairs)
        query = f"What is {name}({query})?" if query is not None else None
    elif style == 3:
        body = "Input    Output\n" + "\n".join(f"{a:<9} {b}" for a, b in pairs)
    else:
        body = "; ".join(f"{q(a)} turns into {q(b)}" for a, b in pairs)
    if query is None:
        return rng.choice(["", "What is the rule? ", "Find the program: ", "Write a function for these examples: "]) + body
    if not query.startswith("What is"):
        query = rng.choice([f"What about {q(query)}?", f"{q(query)} -> ?", f"What does {q(query)} give?", f"And {q(query)}?",
                            f"What is the output for {q(query)}?"])
    return body + rng.choice(["\n", ". ", " "]) + query


def _number_function(rng: random.Random) -> tuple[list[tuple[str, str]], str]:
    a, b, c = rng.randint(1, 5), rng.randint(-5, 9), rng.choice([0, 0, 1])
    f = lambda x: c * x * x + a * x + b  # noqa: E731
    xs = sorted(rng.sample(range(0, 15), rng.randint(3, 5)))
    query = rng.choice([x for x in range(0, 20) if x not in xs])
    return [(str(x), str(f(x))) for x in xs], str(query)


def _list_function(rng: random.Random) -> tuple[list[tuple[str, str]], str]:
    op = rng.choice([lambda v: v[::-1], sorted, lambda v: [x * 2 for x in v], lambda v: v[1:], lambda v: [sum(v)], lambda v: v + v[:1]])
    lists = [[rng.randint(0, 9) for _ in range(rng.randint(2, 5))] for _ in range(rng.randint(3, 4))]
    return [(str(v), str(op(v))) for v in lists], str([rng.randint(0, 9) for _ in range(3)])


def _induce(rng: random.Random, data: Path, n: int) -> list[str]:
    from tools.induce.pairs import held_out, sygus_tasks

    tasks = [t for t in sygus_tasks(data / "sygus-strings" / "pbe_slia_2019.json") if not held_out("sygus", t.name)]
    out = []
    while len(out) < n:
        kind = rng.random()
        if kind < 0.5 and tasks:
            task = rng.choice(tasks)
            if len(task.train[0].inputs) != 1:
                continue
            pairs = [(str(e.inputs[0]), str(e.output)) for e in task.train[: rng.randint(2, 4)]]
            query = str(task.test[0].inputs[0]) if task.test and rng.random() < 0.6 else None
        elif kind < 0.8:
            pairs, query = _number_function(rng)
            query = query if rng.random() < 0.8 else None
        else:
            pairs, query = _list_function(rng)
            query = query if rng.random() < 0.6 else None
        out.append(_render_examples(rng, pairs, query))
    return out


# ---- regress ------------------------------------------------------------------------------------------

_HEADERS = [["x", "y"], ["x", "f"], ["t", "v"], ["a", "b", "z"], ["x1", "x2", "y"], ["n", "time"], ["mass", "force"],
            ["h", "v"], ["r", "area"], ["temp", "pressure"], ["u", "v", "w"], ["age", "height"], ["size", "price"]]
_ASKS = ["", "", "Find a formula for the last column.", "What is the relationship?", "Fit a formula to this data.",
         "Which equation fits?", "Can you find the law behind these numbers?", "{y} = ?", "Find {y} as a function of the others.",
         "Here are some measurements:", "I measured this in the lab."]


def _regress(rng: random.Random, data: Path, n: int) -> list[str]:
    out = []
    for _ in range(n):
        names = rng.choice(_HEADERS)
        rows = []
        coefficients = [rng.uniform(-3, 5) for _ in names]
        power = rng.choice([1, 1, 2, 0.5])
        for _ in range(rng.randint(5, 12)):
            xs = [round(rng.uniform(0, 10), rng.choice([0, 1, 2])) for _ in names[:-1]]
            y = sum(c * abs(x) ** power for c, x in zip(coefficients, xs)) + coefficients[-1]
            rows.append([*xs, round(y, rng.choice([1, 2, 3]))])
        style = rng.randrange(4)
        fmt = lambda v: str(int(v)) if float(v).is_integer() else str(v)  # noqa: E731
        if style == 0:
            table = "\n".join([" ".join(names), *(" ".join(fmt(v) for v in r) for r in rows)])
        elif style == 1:
            table = "\n".join([",".join(names), *(",".join(fmt(v) for v in r) for r in rows)])
        elif style == 2:
            table = "\n".join(["\t".join(names), *("\t".join(fmt(v) for v in r) for r in rows)])
        else:
            table = rng.choice([", ", "; ", "\n"]).join(" ".join(f"{k}={fmt(v)}" for k, v in zip(names, r)) for r in rows)
        ask = rng.choice(_ASKS).format(y=names[-1])
        out.append(f"{ask}\n{table}" if ask and rng.random() < 0.5 else f"{table}\n{ask}".strip())
    return out


# ---- none ---------------------------------------------------------------------------------------------

_TOPICS = ["the weather", "my cat", "my job", "the meeting tomorrow", "dinner", "the weekend", "my exam", "the new phone", "coffee",
           "my garden", "the football game", "my trip to Spain", "my sister", "learning guitar", "the rent", "my car", "the news"]
_THINGS = ["a poem about the sea", "a haiku about autumn", "an email to my landlord", "a birthday message for my mom",
           "a short story about a dragon", "a cover letter", "a limerick about cats", "a tweet about our product launch"]
_FACTS = ["What is the capital of {c}?", "How many people live in {c}?", "What language do they speak in {c}?",
          "What's the currency of {c}?", "How far is {c} from here?", "Is {c} safe to visit in winter?"]
_COUNTRIES = ["Peru", "Norway", "Kenya", "Japan", "Canada", "Portugal", "Vietnam", "Chile", "Egypt", "Poland", "Iceland", "Ghana"]
_NONE = [
    "hi", "hello!", "hey there", "good morning", "thanks!", "thank you so much", "bye", "how are you?", "what can you do?",
    "who made you?", "are you a robot?", "what's your name?", "help", "can you help me?", "nice to meet you", "lol", "ok",
    "Tell me a joke.", "Write {thing}.", "Can you write {thing}?", "Translate 'good night' into French.",
    "How do I cook rice?", "What's a good recipe for pancakes?", "How long should I boil an egg?", "How do I fix a leaking tap?",
    "Should I learn Python or JavaScript first?", "Why does my Python script raise a KeyError?", "How do I reverse a list in Python?",
    "What's the difference between TCP and UDP?", "Explain quantum computing simply.", "What is photosynthesis?",
    "What does 'ephemeral' mean?", "How many ounces are in a pound?", "Convert 30 degrees Celsius to Fahrenheit.",
    "What's 15% of 80?", "What is 12 times 7?", "Is 17 a prime number?", "What is the square root of 144?",
    "I have 3 apples and eat 1, how many are left?", "Can you recommend a good book?", "What should I watch tonight?",
    "I feel stressed about {topic}. Any advice?", "Let's talk about {topic}.", "What do you think about {topic}?",
    "I'm bored.", "Any tips for sleeping better?", "How can I be more productive?", "What's the meaning of life?",
    "Who won the last World Cup?", "When is the next solar eclipse?", "How tall is Mount Everest?", "Why is the sky blue?",
    "What time is it in Tokyo?", "Is it going to rain tomorrow?", "Summarise the plot of a typical romance novel.",
    "My phone number is 555-0142, can you remember it?", "Set a reminder for 7 am.", "Order me a pizza.",
    "What's the best laptop for students?", "How do vaccines work?", "Give me three ideas for a birthday party.",
    "Is it better to rent or to buy a house?", "How do I say 'thank you' in Japanese?", "What year did the Berlin Wall fall?",
    "I'm tired. My boss keeps yelling at me. Is that normal?", "My dog won't eat. He seems sad. Should I call the vet?",
    "We moved last month. The kids miss their friends. Will it get better?",
    "I failed my driving test. My friends all passed. Am I a bad driver?",
    "The train was late again. I missed my meeting. Is that a good excuse?",
    "My sister is getting married. I have to give a speech. Can you help me write it?",
    "It is raining. I forgot my umbrella. Should I buy one?",
    "Is Titanic a good movie for a first date?", "Did you like the ending of Inception?", "I loved Alien. Am I weird for that?",
    "Who is your favourite actor?", "What's the best movie ever made?", "Is Tom Hanks a nice person in real life?",
    "Should I watch The Godfather or Pulp Fiction tonight?", "Can you explain how the stock market works?",
    "What are the rules of chess?", "What is the derivative of x squared?", "Solve 2x + 3 = 11.", "What is 2 + 2?",
    "Can you proofread this sentence: their going to the park.", "Make this sound more polite: send me the file now.",
    "list three fruits", "name a famous painter", "what's up", "are you there?", "I need help with my homework",
    "What's the news today?", "How old is the universe?", "How do planes fly?", "Why do cats purr?",
    "Can you explain {topic} to me?", "Write a python function that adds two numbers.", "def f(x) -> int: return x. Why the error?",
    "What is 3 -> 4 in Haskell types?", "Rate my idea: an app for sharing umbrellas.", "What rhymes with orange?",
]


_DAY = ["I'm tired", "My boss is mean", "It rained all day", "My team lost again", "I burned the toast", "My cat is sick",
        "I slept badly", "My friend didn't call back", "The bus was late", "I got a parking ticket", "My code is slow",
        "Our neighbour is loud", "I have a headache", "My plants keep dying", "The printer is broken", "I lost my keys"]
_DAY_ASKED = ["Is that normal?", "What should I do?", "Should I be worried?", "Am I overreacting?", "Is it my fault?", "Any advice?",
              "Is that bad?", "Can you help?", "Why does this happen to me?", "Should I complain?", "Will it get better?"]
_PAIRS = [("cats", "dogs"), ("tea", "coffee"), ("iPhones", "Android phones"), ("summer", "winter"), ("Python", "Java"),
          ("books", "films"), ("trains", "planes"), ("Paris", "Rome"), ("running", "swimming"), ("Mac", "Windows")]
_OPINIONS = ["Do you think {a} are better than {b}?", "Which is better, {a} or {b}?", "Are {a} healthier than {b}?",
             "Why do people prefer {a} to {b}?", "Is it true that {a} are smarter than {b}?", "{a} or {b}?",
             "Do you like {a}?", "Are {a} overrated?", "What's your opinion on {a}?", "Would you rather have {a} or {b}?"]
_FEEDBACK = ["thanks, that was really helpful", "thanks, that was really helpful!", "that helped a lot, thank you!", "very useful, thanks", "great answer!", "that's wrong", "you're awesome", "that didn't work",
             "perfect, thanks!", "hmm, not quite", "can you say that again?", "I don't understand", "never mind",
             "that's not what I asked", "cool", "wow", "ok thanks, bye", "sorry, my mistake", "yes please", "no thanks",
             "can you explain that more simply?", "what do you mean?", "good job", "that makes sense now"]
_HOWTO = ["How do I {task} in {app}?", "how to {task} with {app}", "Why can't I {task} in {app}?", "What's the shortcut to {task} in {app}?"]
_TASKS = ["merge two cells", "undo a commit", "compute the inverse of a matrix", "make a pivot table", "remove a background",
          "split a column", "change the font", "find duplicates", "rename a branch", "count words", "sort by date"]
_APPS = ["Excel", "Word", "git", "Photoshop", "Google Sheets", "Linux", "my spreadsheet", "VS Code", "PowerPoint"]
# What people ask about films and people that a film graph of directors, writers, actors, years, languages, genres,
# tags, votes and ratings does not hold: money, awards, places, plots, music, where to watch.
_FILM_ELSEWHERE = ["How much money did {f} make at the box office?", "What was the budget of {f}?", "How many Oscars did {f} win?",
                   "Where was {f} filmed?", "How long is {f}?", "What is the plot of {f}?", "Who composed the music for {f}?",
                   "Is {f} on Netflix?", "Is {f} worth watching?", "Is there a sequel to {f}?", "Did {f} win any awards?",
                   "What's the best scene in {f}?", "Can kids watch {f}?", "How much did {f} gross?", "Where can I stream {f}?",
                   "Was {f} a success?", "Why is {f} so famous?", "Is {f} based on a true story?"]


@functools.cache
def _names(data: Path) -> tuple[list[str], list[str]]:
    """Films and people of the MetaQA graph (its first 20,000 triples)."""
    films, people = set(), set()
    for line in (data / "metaqa" / "kb.txt").read_text().splitlines()[:20000]:
        head, relation, tail = (line.split("|") + ["", ""])[:3]
        if relation in ("directed_by", "starred_actors", "written_by"):
            films.add(head)
            people.add(tail)
    return sorted(films), sorted(people)


def _none(rng: random.Random, data: Path, n: int) -> list[str]:
    out: list[str] = []
    films = _names(data)[0]
    proofwriter = json.loads((data / "proofwriter" / "train.json").read_text())[:300]
    statements = [x.strip() for item in proofwriter for x in re.findall(r"[^.]+\.", item["context"])]
    for _ in range(20 * n):
        if len(out) >= n:
            break
        kind = rng.random()
        if kind < 0.15 and films:
            text = rng.choice(_FILM_ELSEWHERE).format(f=rng.choice(films))
        elif kind < 0.3:
            a, b = rng.sample(rng.choice(_PAIRS), 2)
            text = rng.choice(_OPINIONS).format(a=a, b=b)
        elif kind < 0.4:
            text = rng.choice(_FEEDBACK)
        elif kind < 0.5:
            text = rng.choice(_HOWTO).format(task=rng.choice(_TASKS), app=rng.choice(_APPS))
        elif kind < 0.62:
            said = rng.sample(_DAY, rng.randint(1, 3))
            text = ". ".join(said) + ". " + rng.choice(_DAY_ASKED)
        elif kind < 0.67:  # statements with nothing asked are no task either
            text = " ".join(rng.sample(statements, rng.randint(1, 3)))
        else:
            text = rng.choice(_NONE + _FACTS)
        text = text.format(c=rng.choice(_COUNTRIES), thing=rng.choice(_THINGS), topic=rng.choice(_TOPICS))
        if rng.random() < 0.3:
            text = text.lower().rstrip("?.!")
        if rng.random() < 0.2:
            text = rng.choice(["hey, ", "hi! ", "quick question: ", "sorry to bother you, ", "so "]) + text
        if text not in out:
            out.append(text)
    return out
