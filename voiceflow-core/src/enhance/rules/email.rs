//! Email layout: the greeting on its own line ("hi john thanks" -> "Hi John,"
//! then a blank line) and the sign-off on its own lines ("best regards John"
//! -> "Best regards,\nJohn") after a blank line.

use super::doc::{capitalize, close_sentence, is_any, longest, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

const GREETINGS: &[(&[&str], ())] = &[
    (&["good", "morning"], ()),
    (&["good", "afternoon"], ()),
    (&["good", "evening"], ()),
    (&["hello"], ()),
    (&["hi"], ()),
    (&["hey"], ()),
    (&["dear"], ()),
    (&["greetings"], ()),
];

/// Titles before a name; a dot right after one belongs to it.
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "dr", "prof"];

/// Titles written with a dot ("Ms. Chen").
const ABBREVIATED_TITLES: &[&str] = &["mr", "mrs", "ms", "dr", "prof"];

/// Words that address a group and stay lower case ("Hi team,").
const GROUPS: &[&str] = &[
    "team",
    "all",
    "everyone",
    "everybody",
    "folks",
    "there",
    "guys",
    "both",
    "y'all",
];

/// Sign-off phrases, and whether one needs a name after it to count
/// ("thanks" alone ends many sentences; "best regards" never does).
const SIGN_OFFS: &[(&[&str], bool)] = &[
    (&["best", "regards"], false),
    (&["kind", "regards"], false),
    (&["warm", "regards"], false),
    (&["warmest", "regards"], false),
    (&["regards"], false),
    (&["yours", "sincerely"], false),
    (&["sincerely"], false),
    (&["yours", "truly"], false),
    (&["yours", "faithfully"], false),
    (&["best", "wishes"], false),
    (&["all", "the", "best"], true),
    (&["many", "thanks"], true),
    (&["thanks", "again"], true),
    (&["thank", "you"], true),
    (&["thanks"], true),
    (&["cheers"], true),
    (&["best"], true),
    (&["take", "care"], true),
];

/// Words that are not a name after a sign-off ("thanks for that").
const NOT_NAMES: &[&str] = &[
    "for",
    "the",
    "a",
    "an",
    "so",
    "much",
    "again",
    "you",
    "all",
    "very",
    "that",
    "it",
    "in",
    "advance",
    "to",
    "and",
    "of",
    "your",
    "my",
    "me",
    "us",
    "everyone",
    "everybody",
    "both",
    "lot",
    "this",
    "now",
    "guys",
    "regards",
    "wishes",
    "is",
    "was",
    "will",
];

/// Words after which a sign-off word belongs to the sentence ("the best",
/// "say thanks").
const NOT_BEFORE_SIGN_OFF: &[&str] = &[
    "the", "a", "my", "your", "our", "their", "his", "her", "its", "all", "very", "say", "said",
    "says", "many", "no", "and", "with", "to", "of",
];

fn is_mark(t: &Token) -> bool {
    t.is_soft() || t.is_terminal()
}

/// Capitalises the name words among `tokens`, recording each change.
fn capitalize_names(doc: &mut Doc, range: std::ops::Range<usize>) {
    for i in range {
        let t = &doc.tokens[i];
        let plain = t.kind == Kind::Word && !t.protected && !is_any(Some(t), GROUPS);
        if plain && t.text.starts_with(char::is_lowercase) {
            let before = t.clone();
            doc.tokens[i].text = capitalize(&t.text);
            let after = doc.tokens[i].clone();
            doc.record(EditKind::Capitalization, &[before], &[after]);
        }
    }
}

/// How many tokens after a greeting are the name: up to three words when a
/// mark or break follows them, else one word (a title and one word).
fn name_len(tokens: &[Token]) -> usize {
    let word_at = |i: usize| tokens.get(i).is_some_and(|t| t.kind == Kind::Word);
    let title_dot = |i: usize| {
        is_any(tokens.get(i), TITLES)
            && tokens.get(i + 1).is_some_and(|t| t.text == "." && t.joined)
    };
    let mut i = 0;
    let mut words = 0;
    while words < 3 && word_at(i) {
        let group = is_any(tokens.get(i), GROUPS);
        i += 1 + usize::from(title_dot(i));
        words += 1;
        if group {
            return i;
        }
    }
    if tokens.get(i).is_none_or(|t| is_mark(t) || t.is_break()) {
        return i;
    }
    if !word_at(0) {
        return 0;
    }
    if is_any(tokens.first(), TITLES) {
        let after_title = 1 + usize::from(title_dot(0));
        after_title + usize::from(word_at(after_title))
    } else {
        1
    }
}

/// Puts the greeting on its own line, ending with a comma, followed by a
/// blank line.
pub(crate) struct Greeting;

impl Rule for Greeting {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.context == Context::Email && request.is_english()
    }

    fn apply(&self, doc: &mut Doc) {
        let Some((n, _)) = longest(&doc.tokens, GREETINGS) else {
            return;
        };
        let name = name_len(&doc.tokens[n..]);
        if name == 0 && is_any(doc.tokens.first(), &["dear"]) {
            return;
        }
        let sep_start = n + name;
        let sep_end = sep_start
            + doc.tokens[sep_start..]
                .iter()
                .take_while(|t| is_mark(t) || t.is_break())
                .count();
        let mut sep = vec![Token::new(Kind::Punct, ",")];
        if sep_end < doc.tokens.len() {
            sep.push(Token::new(Kind::Paragraph, "\n\n"));
        }
        let old: Vec<Token> = doc.tokens.splice(sep_start..sep_end, sep.clone()).collect();
        if old != sep {
            doc.record(EditKind::Layout, &old, &sep);
        }
        let title = n;
        let dotted = doc.tokens.get(title + 1).is_some_and(|t| t.text == ".");
        let name_after = title + 1 < sep_start;
        let sep_start =
            if is_any(doc.tokens.get(title), ABBREVIATED_TITLES) && !dotted && name_after {
                let dot = Token {
                    joined: true,
                    ..Token::new(Kind::Punct, ".")
                };
                doc.tokens.insert(title + 1, dot.clone());
                doc.record(EditKind::Punctuation, &[], &[dot]);
                sep_start + 1
            } else {
                sep_start
            };
        capitalize_names(doc, n..sep_start);
    }
}

/// Finds a sign-off that ends the text: the phrase, an optional mark, up to
/// three name words and nothing else but marks and breaks. Returns where it
/// starts, the phrase's length and the names' range.
fn find_sign_off(tokens: &[Token]) -> Option<(usize, usize, std::ops::Range<usize>)> {
    (0..tokens.len()).find_map(|i| {
        let (n, &needs_name) = longest(&tokens[i..], SIGN_OFFS)?;
        let sentence_start = i == 0 || tokens[i - 1].is_terminal() || tokens[i - 1].is_break();
        // In unpunctuated speech a sign-off follows the last word ("...
        // thursday thanks ana"), but not as a word of its sentence ("the best").
        let unpunctuated = !tokens[..i].iter().any(Token::is_terminal)
            && !is_any(tokens.get(i.wrapping_sub(1)), NOT_BEFORE_SIGN_OFF);
        if needs_name && !sentence_start && !unpunctuated {
            return None;
        }
        let mut j = i + n;
        j += usize::from(tokens.get(j).is_some_and(is_mark));
        let names = j..j + tokens[j..]
            .iter()
            .take(3)
            .take_while(|t| t.kind == Kind::Word && !is_any(Some(t), NOT_NAMES))
            .count();
        let only_marks_after = tokens[names.end..]
            .iter()
            .all(|t| is_mark(t) || t.is_break());
        let named = !names.is_empty() || !needs_name;
        (only_marks_after && named).then_some((i, n, names))
    })
}

/// Puts the sign-off after a blank line, the phrase ending with a comma and
/// the name on the next line.
pub(crate) struct SignOff;

impl Rule for SignOff {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        request.context == Context::Email && request.is_english()
    }

    fn apply(&self, doc: &mut Doc) {
        let Some((start, n, names)) = find_sign_off(&doc.tokens) else {
            return;
        };
        let old = doc.tokens.split_off(start);
        while doc.tokens.last().is_some_and(Token::is_break) {
            doc.tokens.pop();
        }
        if let Some((before, after)) = close_sentence(&mut doc.tokens) {
            doc.record(EditKind::Punctuation, &before, &after);
        }
        let mut tail = Vec::new();
        if !doc.tokens.is_empty() {
            tail.push(Token::new(Kind::Paragraph, "\n\n"));
        }
        tail.extend(old[..n].iter().filter(|t| t.kind == Kind::Word).cloned());
        tail.push(Token::new(Kind::Punct, ","));
        if !names.is_empty() {
            tail.push(Token::new(Kind::Line, "\n"));
        }
        let names_at = doc.tokens.len() + tail.len();
        tail.extend(old[names.start - start..names.end - start].iter().cloned());
        doc.record(EditKind::Layout, &old, &tail);
        doc.tokens.extend(tail);
        capitalize_names(doc, names_at..doc.tokens.len());
    }
}
