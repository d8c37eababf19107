//! Code: spoken symbols to symbols ("open paren" -> "(", "double equals" ->
//! "==", "arrow" -> "->", "dot" -> "."), identifier casing commands ("snake
//! case user id" -> "user_id"), and names said as several words joined into
//! one identifier ("calculate total open paren" -> "calculate_total(") in the
//! casing last chosen (snake case until one is; Pascal case after `class`).
//! Keywords, strings, comments and import lines stay as they are.

use super::doc::{is_any, is_word, longest, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::EnhanceRequest;
use crate::enhance::result::EditKind;
use crate::Context;

/// Spoken symbols with the token each becomes. Operators are spaced;
/// `.`, `_`, `::` join their neighbours; `(` and `[` attach to a name before them.
const SYMBOLS: &[(&[&str], (Kind, &str))] = &[
    (&["open", "paren"], (Kind::Call, "(")),
    (&["open", "parenthesis"], (Kind::Call, "(")),
    (&["left", "paren"], (Kind::Call, "(")),
    (&["close", "paren"], (Kind::Punct, ")")),
    (&["close", "parenthesis"], (Kind::Punct, ")")),
    (&["right", "paren"], (Kind::Punct, ")")),
    (&["open", "bracket"], (Kind::Call, "[")),
    (&["close", "bracket"], (Kind::Punct, "]")),
    (&["open", "brace"], (Kind::Symbol, "{")),
    (&["open", "curly"], (Kind::Symbol, "{")),
    (&["close", "brace"], (Kind::Symbol, "}")),
    (&["close", "curly"], (Kind::Symbol, "}")),
    (&["equals"], (Kind::Symbol, "=")),
    (&["double", "equals"], (Kind::Symbol, "==")),
    (&["equals", "equals"], (Kind::Symbol, "==")),
    (&["triple", "equals"], (Kind::Symbol, "===")),
    (&["not", "equals"], (Kind::Symbol, "!=")),
    (&["plus", "equals"], (Kind::Symbol, "+=")),
    (&["minus", "equals"], (Kind::Symbol, "-=")),
    (&["plus"], (Kind::Symbol, "+")),
    (&["minus"], (Kind::Symbol, "-")),
    (&["star"], (Kind::Symbol, "*")),
    (&["asterisk"], (Kind::Symbol, "*")),
    (&["slash"], (Kind::Symbol, "/")),
    (&["times"], (Kind::Symbol, "*")),
    (&["divided", "by"], (Kind::Symbol, "/")),
    (&["backslash"], (Kind::Symbol, "\\")),
    (&["modulo"], (Kind::Symbol, "%")),
    (&["arrow"], (Kind::Symbol, "->")),
    (&["fat", "arrow"], (Kind::Symbol, "=>")),
    (&["less", "than"], (Kind::Symbol, "<")),
    (&["greater", "than"], (Kind::Symbol, ">")),
    (&["less", "than", "or", "equal", "to"], (Kind::Symbol, "<=")),
    (
        &["greater", "than", "or", "equal", "to"],
        (Kind::Symbol, ">="),
    ),
    (&["double", "ampersand"], (Kind::Symbol, "&&")),
    (&["ampersand"], (Kind::Symbol, "&")),
    (&["double", "pipe"], (Kind::Symbol, "||")),
    (&["pipe"], (Kind::Symbol, "|")),
    (&["bang"], (Kind::Open, "!")),
    (&["hash"], (Kind::Open, "#")),
    (&["at", "sign"], (Kind::Open, "@")),
    (&["dollar", "sign"], (Kind::Open, "$")),
    (&["tilde"], (Kind::Open, "~")),
    (&["dot"], (Kind::Joiner, ".")),
    (&["underscore"], (Kind::Joiner, "_")),
    (&["double", "colon"], (Kind::Joiner, "::")),
];

fn english_code(request: &EnhanceRequest) -> bool {
    request.context == Context::Code && request.is_english()
}

/// Words of the common languages that are never part of a name.
const KEYWORDS: &[&str] = &[
    "and",
    "as",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "enum",
    "except",
    "export",
    "extends",
    "false",
    "finally",
    "fn",
    "for",
    "from",
    "function",
    "if",
    "impl",
    "import",
    "in",
    "interface",
    "is",
    "let",
    "match",
    "mut",
    "new",
    "none",
    "not",
    "null",
    "or",
    "pass",
    "pub",
    "raise",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "switch",
    "this",
    "throw",
    "trait",
    "true",
    "try",
    "type",
    "use",
    "var",
    "variable",
    "void",
    "while",
    "with",
    "yield",
];

/// Keywords a bracket after is spaced from (`if (`, not a call `if(`).
const SPACED_BEFORE_BRACKET: &[&str] = &[
    "if", "while", "for", "switch", "return", "in", "and", "or", "not", "elif", "match", "catch",
];

/// Keywords that declare a type: the name after one is in Pascal case.
const TYPE_KEYWORDS: &[&str] = &["class", "struct", "enum", "interface", "trait", "type"];

/// Marks Whisper adds to dictated code that nobody said: `, . ; ? !`.
fn is_transcript_mark(t: &Token) -> bool {
    t.kind == Kind::Punct && !t.dictated && t.text.chars().all(|c| ",.;?!…".contains(c))
}

/// Undoes what Whisper adds to dictated code: the commas and full stops it
/// puts between spoken words, and the capital it gives each sentence's first
/// word ("Def calculate total, open paren." -> "def calculate total open
/// paren"). Mixed-case words ("MyClass") keep their case.
pub(crate) struct Transcript;

impl Rule for Transcript {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_code(request)
    }

    fn apply(&self, doc: &mut Doc) {
        // The next word opens a sentence of the transcript.
        let mut opens = true;
        doc.rewrite(|p| {
            let head = &p.rest()[0];
            if is_transcript_mark(head) {
                opens |= head.is_terminal();
                p.drop_next(1, EditKind::Punctuation);
                return;
            }
            let was_open = std::mem::replace(&mut opens, head.is_break());
            let mut chars = head.text.chars();
            let capital_only = chars.next().is_some_and(char::is_uppercase)
                && chars.clone().next().is_some()
                && chars.all(char::is_lowercase);
            if head.kind == Kind::Word && !head.protected && capital_only && was_open {
                let lower = Token {
                    text: head.text.to_lowercase(),
                    ..head.clone()
                };
                p.replace_next(1, vec![lower], EditKind::Capitalization);
            }
        });
    }
}

/// Turns spoken symbols into symbols.
pub(crate) struct SpokenSymbols;

impl Rule for SpokenSymbols {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_code(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some((n, &(kind, text))) = longest(p.rest(), SYMBOLS) {
                let kind = if kind == Kind::Call && is_any(p.out.last(), SPACED_BEFORE_BRACKET) {
                    Kind::Open
                } else {
                    kind
                };
                p.replace_next(n, vec![Token::dictated(kind, text)], EditKind::Symbol);
            }
        });
    }
}

/// How an identifier's words are joined.
#[derive(Debug, Clone, Copy)]
enum Casing {
    Snake,
    Camel,
    Pascal,
    Kebab,
    Constant,
}

const CASINGS: &[(&[&str], Casing)] = &[
    (&["snake", "case"], Casing::Snake),
    (&["camel", "case"], Casing::Camel),
    (&["pascal", "case"], Casing::Pascal),
    (&["kebab", "case"], Casing::Kebab),
    (&["screaming", "snake", "case"], Casing::Constant),
    (&["constant", "case"], Casing::Constant),
    (&["upper", "snake", "case"], Casing::Constant),
];

fn join(words: &[Token], casing: Casing) -> String {
    let lower = words.iter().map(|t| t.text.to_lowercase());
    let capitalized = |w: String| super::doc::capitalize(&w);
    match casing {
        Casing::Snake => lower.collect::<Vec<_>>().join("_"),
        Casing::Kebab => lower.collect::<Vec<_>>().join("-"),
        Casing::Constant => lower
            .map(|w| w.to_uppercase())
            .collect::<Vec<_>>()
            .join("_"),
        Casing::Pascal => lower.map(capitalized).collect(),
        Casing::Camel => lower
            .enumerate()
            .map(|(i, w)| if i == 0 { w } else { capitalized(w) })
            .collect(),
    }
}

/// Articles: prose, never part of a name ("the loop").
const ARTICLES: &[&str] = &["the", "a", "an"];

/// A word that can be part of a spoken name: plain lower-case letters, not
/// a keyword or article, not the start of a casing command.
fn is_name_word(tokens: &[Token]) -> bool {
    tokens.first().is_some_and(|t| {
        t.kind == Kind::Word
            && !t.protected
            && t.text.chars().all(|c| c.is_ascii_lowercase())
            && !is_any(Some(t), KEYWORDS)
            && !is_any(Some(t), ARTICLES)
            && longest(tokens, CASINGS).is_none()
    })
}

/// How many name words start `tokens`.
fn name_words(tokens: &[Token]) -> usize {
    (0..tokens.len())
        .take_while(|&i| is_name_word(&tokens[i..]))
        .count()
}

/// Where the rule is in the code: what it leaves alone.
#[derive(Default)]
struct Place {
    /// The casing of the last casing command.
    chosen: Option<Casing>,
    /// Inside a string literal.
    in_string: bool,
    /// On an import line or in a comment, up to the line's end.
    verbatim: bool,
}

/// Joins the words after a casing command ("camel case get user name") into
/// one identifier ("getUserName"), up to the next symbol, mark or command;
/// and two or more name words in a row ("calculate total") into one
/// identifier in the casing last chosen (snake case before any), Pascal case
/// after a type keyword ("class user account" -> "class UserAccount"). A
/// spoken "variable" before a name is dropped ("variable max retries equals
/// three" -> "max_retries = 3").
pub(crate) struct IdentifierCase;

impl Rule for IdentifierCase {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_code(request)
    }

    fn apply(&self, doc: &mut Doc) {
        let mut place = Place::default();
        doc.rewrite(|p| {
            let head = &p.rest()[0];
            if head.is_break() {
                place.verbatim = false;
            }
            if head.text == "\"" {
                place.in_string = head.kind == Kind::Open;
            }
            if is_any(Some(head), &["import", "from"]) || matches!(head.text.as_str(), "#" | "//") {
                place.verbatim = true;
            }
            if let Some((n, &casing)) = longest(p.rest(), CASINGS) {
                place.chosen = Some(casing);
                let rest = &p.rest()[n..];
                let words = (0..rest.len())
                    .take_while(|&i| {
                        rest[i].kind == Kind::Word && longest(&rest[i..], CASINGS).is_none()
                    })
                    .count();
                if words > 0 {
                    let ident = Token {
                        protected: true,
                        ..Token::word(join(&p.rest()[n..n + words], casing))
                    };
                    p.replace_next(n + words, vec![ident], EditKind::IdentifierCase);
                }
                return;
            }
            if place.in_string || place.verbatim {
                return;
            }
            if is_word(Some(head), "variable") && name_words(&p.rest()[1..]) > 0 {
                p.drop_next(1, EditKind::IdentifierCase);
                return;
            }
            let words = name_words(p.rest());
            let type_name = is_any(p.out.last(), TYPE_KEYWORDS);
            if words >= 2 || (words == 1 && type_name) {
                let casing = if type_name {
                    Casing::Pascal
                } else {
                    place.chosen.unwrap_or(Casing::Snake)
                };
                let ident = Token {
                    protected: true,
                    ..Token::word(join(&p.rest()[..words], casing))
                };
                p.replace_next(words, vec![ident], EditKind::IdentifierCase);
            }
        });
    }
}
