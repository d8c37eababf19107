//! The rule enhancer on odd input: it never panics, never loses plain words
//! and handles long text.

use voiceflow_core::enhance::{Context, EnhanceOptions, EnhanceRequest, Enhancer, RuleEnhancer};

const ODD: &[&str] = &[
    "",
    "   ",
    "\n\n\n",
    "\t \r\n",
    "um uh er ah",
    "Um, uh. Er! Ah?",
    "you know",
    "I mean,",
    "scratch that",
    "scratch that scratch that",
    "no wait",
    "no wait I mean",
    ". no wait six",
    "heading",
    "heading .",
    "subheading new paragraph",
    "snake case",
    "camel case open paren",
    "open paren close paren open bracket",
    "comma period question mark",
    "new line new line new paragraph",
    "?!.,;:",
    "...",
    "\"\"\"",
    "'",
    "-",
    "a-",
    "- -- ---",
    "th- -the",
    "point",
    "and",
    "one point",
    "hundred thousand million",
    "nine hundred ninety nine trillion nine hundred ninety nine billion nine hundred ninety nine million",
    "eighteen quintillion",
    "twenty twenty twenty twenty",
    "three thirty thirty pm pm",
    "o'clock",
    "twelve oh",
    "dollars and cents",
    "five dollars and",
    "best regards",
    "hi",
    "dear",
    "dear mr.",
    "thanks,",
    "smiley face smiley face",
    "日本語のテキストです。これはテストです。",
    "Привет, как дела? хорошо",
    "مرحبا بالعالم",
    "👍👍 🎉 great 😀",
    "e\u{301}cole cafe\u{301}",
    "zero\u{200d}width\u{200b}joiner",
    "\u{0}\u{7}\u{1b}[31m control",
    "ǅemal ﬁnally İstanbul ß",
    "I'M i'M i’m",
    "a.b.c. e.g. i.e. p.m. a.m.",
    "3:30 15:75 99:99 1:2",
    "18446744073709551616 dollars 99999999999999999999 percent",
];

fn request(context: Context) -> EnhanceRequest {
    EnhanceRequest::new(context).options(EnhanceOptions {
        emoji_words: true,
        ..EnhanceOptions::default()
    })
}

#[test]
fn odd_input_never_panics_in_any_context() {
    for context in Context::ALL {
        for text in ODD {
            let out = RuleEnhancer.enhance(text, &request(context)).unwrap();
            assert_eq!(out.backend, "rules");
            assert!(
                !out.text.starts_with(char::is_whitespace),
                "{context} {text:?} -> {:?}",
                out.text
            );
            assert!(
                !out.text.ends_with(char::is_whitespace),
                "{context} {text:?} -> {:?}",
                out.text
            );
        }
    }
}

#[test]
fn empty_and_filler_only_input_gives_empty_text() {
    for context in Context::ALL {
        for text in ["", "  \n ", "um uh er", "Um, uh."] {
            let out = RuleEnhancer.enhance(text, &request(context)).unwrap();
            assert_eq!(out.text, "", "{context} {text:?}");
        }
    }
}

/// A small deterministic generator (no dependency, same texts every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

/// Words that no rule treats as a command, filler, number or name.
const PLAIN: &[&str] = &[
    "apple", "river", "quickly", "blue", "table", "sings", "Paris", "under", "we", "they", "café",
    "naïve", "über", "Zoë", "window", "green", "runs", "over", "bright", "stone",
];
const FILLERS: &[&str] = &["um", "uh", "er", "ah"];
const MARKS: &[&str] = &[",", ".", "?", "!", ";"];

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn plain_words_all_survive_in_order_with_fillers_removed() {
    let mut rng = Lcg(42);
    for round in 0..400 {
        let mut text = String::new();
        let mut kept = Vec::new();
        let mut last = "";
        for _ in 0..rng.next(40) + 1 {
            match rng.next(10) {
                0 => text.push_str(FILLERS[rng.next(FILLERS.len())]),
                1 => text.push_str(MARKS[rng.next(MARKS.len())]),
                _ => {
                    // A word or a pair of words said twice is a repetition.
                    let n = kept.len();
                    let repeats = |w: &str| {
                        w.eq_ignore_ascii_case(last)
                            || (n >= 3
                                && kept[n - 3] == kept[n - 1]
                                && kept[n - 2] == w.to_lowercase())
                    };
                    let mut word = PLAIN[rng.next(PLAIN.len())];
                    if repeats(word) {
                        word = if repeats("middle") {
                            "centre"
                        } else {
                            "middle"
                        };
                    }
                    last = word;
                    kept.push(word.to_lowercase());
                    text.push_str(word);
                }
            }
            text.push(' ');
        }
        let context = Context::ALL[round % Context::ALL.len()];
        let out = RuleEnhancer.enhance(&text, &request(context)).unwrap();
        assert_eq!(
            words_of(&out.text),
            kept,
            "{context}: {text:?} -> {:?}",
            out.text
        );
    }
}

#[test]
fn very_long_text_is_handled_whole() {
    let sentence = "um so the the quarterly numbers came in at twenty five percent above plan comma \
                    and I think we should, you know, celebrate period send it monday no wait tuesday ";
    let text = sentence.repeat(5_000);
    let unpunctuated = "we went to the park and no wait to the lake and ".repeat(10_000);
    for context in Context::ALL {
        let out = RuleEnhancer.enhance(&text, &request(context)).unwrap();
        assert_eq!(out.text.matches("25%").count(), 5_000, "{context}");
        assert!(!out.text.contains(" um "), "{context}");
        let out = RuleEnhancer
            .enhance(&unpunctuated, &request(context))
            .unwrap();
        assert_eq!(out.text.matches("lake").count(), 10_000, "{context}");
        assert_eq!(out.text.matches("park").count(), 0, "{context}");
    }
}
