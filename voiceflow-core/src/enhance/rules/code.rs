//! Code: spoken symbols to symbols ("open paren" -> "(", "double equals" ->
//! "==", "arrow" -> "->", "dot" -> ".") and identifier casing commands
//! ("snake case user id" -> "user_id"). Other words stay as they are.

use super::doc::{longest, Doc};
use super::token::{Kind, Token};
use super::Rule;
use crate::enhance::request::{Context, EnhanceRequest};
use crate::enhance::result::EditKind;

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

/// Turns spoken symbols into symbols.
pub(crate) struct SpokenSymbols;

impl Rule for SpokenSymbols {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_code(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            if let Some((n, &(kind, text))) = longest(p.rest(), SYMBOLS) {
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

/// Joins the words after a casing command ("camel case get user name") into
/// one identifier ("getUserName"), up to the next symbol, mark or command.
pub(crate) struct IdentifierCase;

impl Rule for IdentifierCase {
    fn applies(&self, request: &EnhanceRequest) -> bool {
        english_code(request)
    }

    fn apply(&self, doc: &mut Doc) {
        doc.rewrite(|p| {
            let Some((n, &casing)) = longest(p.rest(), CASINGS) else {
                return;
            };
            let rest = &p.rest()[n..];
            let words = (0..rest.len())
                .take_while(|&i| {
                    rest[i].kind == Kind::Word && longest(&rest[i..], CASINGS).is_none()
                })
                .count();
            if words > 0 {
                let ident = Token {
                    protected: true,
                    ..Token::word(join(&rest[..words], casing))
                };
                p.replace_next(n + words, vec![ident], EditKind::IdentifierCase);
            }
        });
    }
}
