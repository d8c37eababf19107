//! Text as tokens (words, punctuation, symbols, line and paragraph breaks) and
//! back to text with the spacing each kind of token wants.

/// What a token is, which decides the spacing around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters and digits, with inner `'-.@_:/&+` (`don't`, `3:30`, `e.g.`).
    Word,
    /// Attaches to the token before: `, . ? ! : ; ) ] }` and closing quotes.
    Punct,
    /// Attaches to the token after: `( [ {` and opening quotes.
    Open,
    /// Attaches on both sides (code: `.`, `_`, `::`).
    Joiner,
    /// Code's call or index bracket: attaches to a word before it and to
    /// whatever follows (`f(`, `items[`).
    Call,
    /// Anything else (`$`, `#`, emoji, code operators): spaced as in the
    /// source, or on both sides when made by a rule.
    Symbol,
    /// A line break.
    Line,
    /// A paragraph break (a blank line).
    Paragraph,
}

/// One token of the text being enhanced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The text as it will be written.
    pub text: String,
    /// What it is.
    pub kind: Kind,
    /// No whitespace stood before it in the source.
    pub joined: bool,
    /// It came from the user dictionary: other rules leave it as it is.
    pub protected: bool,
    /// It is punctuation the speaker dictated ("comma"): it is never dropped
    /// as redundant.
    pub dictated: bool,
}

impl Token {
    /// A token of `kind` made by a rule (spaced normally).
    pub fn new(kind: Kind, text: impl Into<String>) -> Token {
        Token {
            text: text.into(),
            kind,
            joined: false,
            protected: false,
            dictated: false,
        }
    }

    /// A word made by a rule.
    pub fn word(text: impl Into<String>) -> Token {
        Token::new(Kind::Word, text)
    }

    /// Punctuation the speaker dictated.
    pub fn dictated(kind: Kind, text: impl Into<String>) -> Token {
        Token {
            dictated: true,
            ..Token::new(kind, text)
        }
    }

    /// A break token (line or paragraph).
    pub fn is_break(&self) -> bool {
        matches!(self.kind, Kind::Line | Kind::Paragraph)
    }

    /// A sentence-ending mark: `.`, `?`, `!`, `...` and runs of them.
    pub fn is_terminal(&self) -> bool {
        self.kind == Kind::Punct && self.text.chars().all(|c| ".?!…".contains(c))
    }

    /// A clause mark: `,`, `;` or `:`.
    pub fn is_soft(&self) -> bool {
        self.kind == Kind::Punct && matches!(self.text.as_str(), "," | ";" | ":")
    }

    /// A comma.
    pub fn is_comma(&self) -> bool {
        self.kind == Kind::Punct && self.text == ","
    }
}

/// Characters allowed inside a word when letters or digits follow them (and
/// a comma between digits: `10,000`).
const INNER: &[char] = &['\'', '’', '-', '.', '@', '_', ':', '/', '&', '+'];
/// Marks that end a sentence; a run of them is one token (`...`, `?!`).
const TERMINAL: &[char] = &['.', '?', '!', '…'];

/// Splits `text` into tokens. Whitespace holding two or more newlines is a
/// paragraph break, one newline a line break.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len() / 4 + 1);
    let mut joined = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        let kind = if c.is_whitespace() {
            let mut newlines = usize::from(c == '\n');
            while i < chars.len() && chars[i].is_whitespace() {
                newlines += usize::from(chars[i] == '\n');
                i += 1;
            }
            joined = false;
            match newlines {
                0 => continue,
                1 => Kind::Line,
                _ => Kind::Paragraph,
            }
        } else if c.is_alphanumeric() {
            i = word_end(&chars, i);
            Kind::Word
        } else if TERMINAL.contains(&c) {
            while i < chars.len() && TERMINAL.contains(&chars[i]) {
                i += 1;
            }
            Kind::Punct
        } else if ",;:)]}".contains(c) {
            Kind::Punct
        } else if "([{".contains(c) {
            Kind::Open
        } else {
            Kind::Symbol
        };
        let text: String = if kind == Kind::Paragraph {
            "\n\n".into()
        } else if kind == Kind::Line {
            "\n".into()
        } else {
            chars[start..i].iter().collect()
        };
        tokens.push(Token {
            joined,
            ..Token::new(kind, text)
        });
        joined = !tokens.last().is_some_and(Token::is_break);
    }
    tokens
}

/// The end of the word that starts before `i`: letters and digits, inner
/// connectors, and the closing dot of a dotted abbreviation (`a.m.`, `e.g.`).
fn word_end(chars: &[char], mut i: usize) -> usize {
    let start = i - 1;
    loop {
        if i < chars.len() && chars[i].is_alphanumeric() {
            i += 1;
        } else if i + 1 < chars.len()
            && chars[i + 1].is_alphanumeric()
            && (INNER.contains(&chars[i])
                || (chars[i] == ','
                    && chars[i - 1].is_ascii_digit()
                    && chars[i + 1].is_ascii_digit()))
        {
            i += 2;
        } else {
            break;
        }
    }
    let word = &chars[start..i];
    let dotted_letters = word.contains(&'.')
        && word
            .split(|&c| c == '.')
            .all(|part| part.len() == 1 && part[0].is_alphabetic());
    if dotted_letters && chars.get(i) == Some(&'.') {
        i += 1;
    }
    i
}

fn space_between(a: &Token, b: &Token) -> bool {
    match (a.kind, b.kind) {
        (_, Kind::Punct) | (Kind::Open | Kind::Call | Kind::Joiner, _) | (_, Kind::Joiner) => false,
        (Kind::Word, Kind::Call) => false,
        (Kind::Punct, Kind::Call) => !matches!(a.text.as_str(), ")" | "]"),
        (_, Kind::Call) => true,
        (Kind::Symbol, _) | (_, Kind::Symbol) => !b.joined,
        _ => true,
    }
}

/// Writes tokens as text: breaks as newlines (none at the start or end),
/// single spaces where the kinds want them.
pub(crate) fn render(tokens: &[Token]) -> String {
    let mut out = String::with_capacity(tokens.iter().map(|t| t.text.len() + 1).sum());
    let mut prev: Option<&Token> = None;
    let mut pending_break: Option<&str> = None;
    for t in tokens {
        if t.is_break() {
            if !out.is_empty() && pending_break != Some("\n\n") {
                pending_break = Some(&t.text);
            }
            continue;
        }
        if let Some(b) = pending_break.take() {
            out.push_str(b);
        } else if prev.is_some_and(|p| space_between(p, t)) {
            out.push(' ');
        }
        out.push_str(&t.text);
        prev = Some(t);
    }
    out
}

/// Writes tokens for an edit's before/after text: like [`render`], but a
/// slice of breaks only shows as its newlines.
pub(crate) fn render_edit(tokens: &[Token]) -> String {
    if !tokens.is_empty() && tokens.iter().all(Token::is_break) {
        return tokens.iter().map(|t| t.text.as_str()).collect();
    }
    render(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        tokenize(text)
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn splits_words_punctuation_and_breaks() {
        use Kind::*;
        let want = vec![
            (Word, "Don't".to_string()),
            (Word, "stop".into()),
            (Punct, "...".into()),
            (Word, "at".into()),
            (Word, "3:30".into()),
            (Word, "p.m.".into()),
            (Paragraph, "\n\n".into()),
            (Symbol, "$".into()),
            (Word, "5".into()),
            (Punct, "?".into()),
        ];
        assert_eq!(kinds("Don't stop... at 3:30 p.m.\n\n$5?"), want);
    }

    #[test]
    fn render_round_trips_ordinary_text() {
        for text in [
            "Hello, world. How are you?",
            "It costs $5 (about 4€) at 3:30 p.m.",
            "She said \"yes\" and left.",
            "Line one\nLine two\n\nNew paragraph 😀!",
            "C++ and e.g. john.doe@example.com",
            "We sold 10,000 units, 5 more, at 1,2,3.",
        ] {
            assert_eq!(render(&tokenize(text)), text);
        }
    }

    #[test]
    fn render_drops_edge_breaks_and_collapses_spaces() {
        assert_eq!(render(&tokenize("\n\n  hello   world \n")), "hello world");
    }
}
