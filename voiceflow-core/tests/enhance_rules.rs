//! The rule enhancer, before and after, across every context.

use std::sync::Arc;

use voiceflow_core::enhance::{
    Context, EditKind, EnhanceOptions, EnhanceRequest, Enhancer, RuleEnhancer, UserDictionary,
};

use Context::{Chat, Code, Document, Email, General};

/// (context, dictated text, expected text)
const CASES: &[(Context, &str, &str)] = &[
    // Fillers, only when they are fillers.
    (
        General,
        "um so I think we should go",
        "So I think we should go.",
    ),
    (General, "I, uh, think it's fine.", "I think it's fine."),
    (General, "Uh, hello there.", "Hello there."),
    (General, "so um yeah", "So yeah."),
    (General, "well er I guess ah fine", "Well I guess fine."),
    (
        General,
        "it was, you know, pretty good",
        "It was pretty good.",
    ),
    (
        General,
        "it was pretty good, you know.",
        "It was pretty good.",
    ),
    (
        General,
        "do you know where it is",
        "Do you know where it is.",
    ),
    (General, "you know him well", "You know him well."),
    (
        General,
        "as you know, we are late",
        "As you know, we are late.",
    ),
    (General, "I mean, it's not bad", "It's not bad."),
    (General, "that's what I mean", "That's what I mean."),
    (General, "I mean it", "I mean it."),
    // Stutters and repetitions.
    (General, "the the meeting is today", "The meeting is today."),
    (General, "I I I think so", "I think so."),
    (General, "I-I don't know", "I don't know."),
    (General, "th- the plan works", "The plan works."),
    (General, "w-what happened", "What happened."),
    (General, "we need to, to leave", "We need to leave."),
    (General, "we had had enough", "We had had enough."),
    (General, "it is very very good", "It is very very good."),
    (General, "bye bye", "Bye bye."),
    (
        General,
        "a re-read of the e-mail",
        "A re-read of the e-mail.",
    ),
    // Spoken corrections.
    (
        General,
        "send it monday scratch that send it tuesday",
        "Send it Tuesday.",
    ),
    (
        General,
        "Send it Monday. Scratch that. Send it Tuesday.",
        "Send it Tuesday.",
    ),
    (General, "meet at five no wait six", "Meet at six."),
    (
        General,
        "let's meet at five no wait at six tomorrow",
        "Let's meet at six tomorrow.",
    ),
    (General, "call John no wait I mean Mary", "Call Mary."),
    (
        General,
        "send it to John sorry I mean Mary",
        "Send it to Mary.",
    ),
    (
        General,
        "The dog barked. I saw a cat, no wait, a bird.",
        "The dog barked. I saw a bird.",
    ),
    (General, "there is no wait time", "There is no wait time."),
    (General, "don't scratch that", "Don't scratch that."),
    // Spoken punctuation and layout commands.
    (
        General,
        "hello comma how are you question mark",
        "Hello, how are you?",
    ),
    (General, "that's great exclamation point", "That's great!"),
    (General, "note colon bring snacks", "Note: bring snacks."),
    (
        General,
        "first line new line second line",
        "First line\nSecond line.",
    ),
    (
        General,
        "intro new paragraph body text",
        "Intro.\n\nBody text.",
    ),
    (
        General,
        "he said open quote hello close quote",
        "He said \"hello\".",
    ),
    (
        General,
        "Hello, comma, how are you? Question mark.",
        "Hello, how are you?",
    ),
    (General, "done full stop next item", "Done. Next item."),
    (
        General,
        "the trial period ends soon",
        "The trial period ends soon.",
    ),
    (General, "a period of growth", "A period of growth."),
    (
        General,
        "we launched a new line of shoes",
        "We launched a new line of shoes.",
    ),
    // Spacing and capitalisation.
    (General, "hello , world .", "Hello, world."),
    (General, "what is this ? really", "What is this? Really."),
    (
        General,
        "i think i'm ready and i'll go",
        "I think I'm ready and I'll go.",
    ),
    (
        General,
        "this is it. this is it.",
        "This is it. This is it.",
    ),
    (General, "iPhone sales rose", "iPhone sales rose."),
    (
        General,
        "sold on eBay. iPhone sales rose",
        "Sold on eBay. iPhone sales rose.",
    ),
    // Numbers.
    (General, "we grew twenty five percent", "We grew 25%."),
    (
        General,
        "the meeting is at three thirty pm",
        "The meeting is at 3:30 PM.",
    ),
    (General, "call me at seven am", "Call me at 7 AM."),
    (
        General,
        "the meeting is at ten a m",
        "The meeting is at 10 AM.",
    ),
    (General, "leave at five thirty p m", "Leave at 5:30 PM."),
    (General, "i got a m and an n", "I got a m and an n."),
    (General, "see you at three thirty", "See you at 3:30."),
    (
        General,
        "lunch at twelve fifteen p.m.",
        "Lunch at 12:15 PM.",
    ),
    (General, "dinner at 7 pm", "Dinner at 7 PM."),
    (
        General,
        "I'll be there at 5 p.m. See you then.",
        "I'll be there at 5 PM. See you then.",
    ),
    (General, "at 5 p.m. tomorrow", "At 5 PM tomorrow."),
    (
        General,
        "it starts at five o'clock",
        "It starts at 5 o'clock.",
    ),
    (General, "I have three kids", "I have three kids."),
    (General, "there were twelve people", "There were 12 people."),
    (General, "it costs five dollars", "It costs $5."),
    (
        General,
        "it costs twenty dollars and fifty cents",
        "It costs $20.50.",
    ),
    (
        General,
        "we sold one hundred and twenty three units",
        "We sold 123 units.",
    ),
    (General, "born in nineteen ninety nine", "Born in 1999."),
    (General, "it was twenty twenty four", "It was 2024."),
    (
        General,
        "the rate is three point five percent",
        "The rate is 3.5%.",
    ),
    (
        General,
        "about two million people",
        "About 2 million people.",
    ),
    (General, "on the twenty first of May", "On the 21st of May."),
    (General, "the first time", "The first time."),
    (
        General,
        "dial five five five one two three four",
        "Dial five five five one two three four.",
    ),
    (General, "forty-two is the answer", "42 is the answer."),
    (
        General,
        "fifteen thousand five hundred runners",
        "15,500 runners.",
    ),
    (General, "twenty five hundred dollars", "$2,500."),
    (General, "wait a second", "Wait a second."),
    (General, "one of them", "One of them."),
    // Email.
    (
        Email,
        "hi john thanks for the update new paragraph best regards mary",
        "Hi John,\n\nThanks for the update.\n\nBest regards,\nMary",
    ),
    (Email, "best regards John", "Best regards,\nJohn"),
    (
        Email,
        "Hi Sarah, can you send me the report? Thanks, Tom",
        "Hi Sarah,\n\nCan you send me the report?\n\nThanks,\nTom",
    ),
    (
        Email,
        "dear mr. smith I am writing to confirm kind regards anna",
        "Dear Mr. Smith,\n\nI am writing to confirm.\n\nKind regards,\nAnna",
    ),
    (
        Email,
        "Hey team, quick update. The build is green. Cheers, Sam.",
        "Hey team,\n\nQuick update. The build is green.\n\nCheers,\nSam",
    ),
    (Email, "thanks for your help", "Thanks for your help."),
    (
        Email,
        "Hello, I wanted to follow up. Thank you so much.",
        "Hello,\n\nI wanted to follow up. Thank you so much.",
    ),
    (
        Email,
        "hi anna new paragraph the numbers look good new paragraph regards bob",
        "Hi Anna,\n\nThe numbers look good.\n\nRegards,\nBob",
    ),
    (
        Email,
        "please give my regards to Bob",
        "Please give my regards to Bob.",
    ),
    // Chat.
    (Chat, "sounds good", "Sounds good"),
    (Chat, "Sounds good.", "Sounds good"),
    (Chat, "sounds good period", "Sounds good."),
    (Chat, "ok. see you soon.", "Ok. See you soon."),
    (Chat, "um yeah that works for me", "Yeah that works for me"),
    (Chat, "see you at seven pm", "See you at 7 PM"),
    (Chat, "are you coming question mark", "Are you coming?"),
    (Chat, "see you soon smiley face", "See you soon smiley face"),
    // Document.
    (
        Document,
        "heading introduction new paragraph this report covers sales",
        "# Introduction\n\nThis report covers sales.",
    ),
    (
        Document,
        "heading results. revenue grew ten percent",
        "# Results\n\nRevenue grew 10%.",
    ),
    (
        Document,
        "subheading next steps new line we will hire",
        "## Next steps\n\nWe will hire.",
    ),
    (Document, "the heading is wrong", "The heading is wrong."),
    (
        Document,
        "Heading. Background. New paragraph. The project started in 2019.",
        "# Background\n\nThe project started in 2019.",
    ),
    (
        Document,
        "first point new paragraph second point",
        "First point.\n\nSecond point.",
    ),
    // Code.
    (Code, "snake case user id equals five", "user_id = 5"),
    (
        Code,
        "camel case get user name open paren close paren",
        "getUserName()",
    ),
    (Code, "pascal case user service", "UserService"),
    (Code, "kebab case main header", "main-header"),
    (
        Code,
        "screaming snake case max size equals one hundred",
        "MAX_SIZE = 100",
    ),
    (Code, "if x double equals ten", "if x == 10"),
    (Code, "self dot name equals name", "self.name = name"),
    (
        Code,
        "fn main open paren close paren arrow result",
        "fn main() -> result",
    ),
    (Code, "user underscore id", "user_id"),
    (Code, "items open bracket zero close bracket", "items[0]"),
    (
        Code,
        "x equals open paren a plus b close paren star two",
        "x = (a + b) * 2",
    ),
    (
        Code,
        "print open paren x comma y close paren semicolon",
        "print(x, y);",
    ),
    (Code, "um let total equals zero", "let total = 0"),
    (Code, "value not equals null", "value != null"),
    (Code, "i equals i plus one", "i = i + 1"),
    (Code, "the the loop", "the loop"),
    (
        Code,
        "HashMap dot new open paren close paren",
        "HashMap.new()",
    ),
    (Code, "std double colon io", "std::io"),
    (Code, "if bang done open brace", "if !done {"),
    (Code, "keep These Words", "keep These Words"),
    // Corrections replace whole amounts, names, days; "I mean" and
    // "actually" only where what follows plainly matches.
    (
        General,
        "So the the budget is, um, twenty five thousand dollars, no wait, thirty thousand dollars.",
        "So the budget is $30,000.",
    ),
    (
        General,
        "So the budget is $25,000, no wait, $30,000.",
        "So the budget is $30,000.",
    ),
    (
        General,
        "We need 12 chairs, no wait, 15 chairs.",
        "We need 15 chairs.",
    ),
    (Chat, "We need 4 tickets, actually 5.", "We need 5 tickets"),
    (
        General,
        "the discount is ten percent sorry I mean twenty percent",
        "The discount is 20%.",
    ),
    (General, "Send it to John, I mean Mike.", "Send it to Mike."),
    (
        Chat,
        "Can you ask Tom, I mean Tim, to call me?",
        "Can you ask Tim to call me?",
    ),
    (
        General,
        "Let's meet on Tuesday, actually Wednesday.",
        "Let's meet on Wednesday.",
    ),
    (
        General,
        "Let's book the small room, actually the large room.",
        "Let's book the large room.",
    ),
    (
        General,
        "Actually, I think the plan is fine.",
        "Actually, I think the plan is fine.",
    ),
    (
        General,
        "I actually think the answer is actually the same as before.",
        "I actually think the answer is actually the same as before.",
    ),
    (General, "It's actually 5 dollars.", "It's actually $5."),
    (General, "I mean what I say.", "I mean what I say."),
    (
        Email,
        "Hi Raj, we can ship on Friday. Scratch that. We can ship on Monday.",
        "Hi Raj,\n\nWe can ship on Monday.",
    ),
    // "like" as a filler only.
    (
        General,
        "Let's meet on Tuesday at, like, 3 o'clock.",
        "Let's meet on Tuesday at 3 o'clock.",
    ),
    (
        General,
        "let's meet at like three o'clock",
        "Let's meet at 3 o'clock.",
    ),
    (General, "Like, I don't know.", "I don't know."),
    (General, "I like the new design.", "I like the new design."),
    (General, "It looks like rain.", "It looks like rain."),
    (
        General,
        "things like three or four",
        "Things like three or four.",
    ),
    (Chat, "Hey, um, are you coming?", "Hey, are you coming?"),
    (General, "Are you are you free?", "Are you free?"),
    // Addresses.
    (
        General,
        "write to john dot smith at example dot com",
        "Write to john.smith@example.com.",
    ),
    (
        Chat,
        "My email is Sam.Lee at gmail.com.",
        "My email is sam.lee@gmail.com",
    ),
    (
        General,
        "the details are on example dot com slash pricing",
        "The details are on example.com/pricing.",
    ),
    (
        General,
        "meet me at example dot com",
        "Meet me at example.com.",
    ),
    (
        General,
        "the dot com bubble burst",
        "The dot com bubble burst.",
    ),
    (General, "we are at home", "We are at home."),
    (Code, "user dot name", "user.name"),
    // Days and months.
    (
        General,
        "the deadline is march twenty first",
        "The deadline is March 21st.",
    ),
    (
        General,
        "we may march on friday in may",
        "We may march on Friday in May.",
    ),
    // Money and lists.
    (
        General,
        "it comes to twelve hundred fifty dollars",
        "It comes to $1,250.",
    ),
    (
        General,
        "the project cost two million dollars",
        "The project cost $2 million.",
    ),
    (
        General,
        "we need three things first milk second eggs third bread",
        "We need three things: first, milk; second, eggs; third, bread.",
    ),
    (
        General,
        "the first step is easy and the second is hard",
        "The first step is easy and the second is hard.",
    ),
    (General, "at first it rained", "At first it rained."),
    // Email layout of raw speech.
    (
        Email,
        "hi team the launch moved to thursday thanks ana",
        "Hi team,\n\nThe launch moved to Thursday.\n\nThanks,\nAna",
    ),
    (
        Email,
        "dear ms chen the contract starts on january fifteenth sincerely robert gray",
        "Dear Ms. Chen,\n\nThe contract starts on January 15th.\n\nSincerely,\nRobert Gray",
    ),
    (
        Email,
        "hi ann that was the best ben",
        "Hi Ann,\n\nThat was the best ben.",
    ),
    // Code: names said as words, transcripts as Whisper writes them.
    (
        Code,
        "def calculate total open paren items close paren colon",
        "def calculate_total(items):",
    ),
    (
        Code,
        "Def calculate total, open paren, items, close paren, colon.",
        "def calculate_total(items):",
    ),
    (
        Code,
        "variable max retry count equals five",
        "max_retry_count = 5",
    ),
    (Code, "class user account colon", "class UserAccount:"),
    (
        Code,
        "let camel case user name equals get name open paren close paren",
        "let userName = getName()",
    ),
    (
        Code,
        "if open paren x triple equals null close paren open brace",
        "if (x === null) {",
    ),
    (
        Code,
        "total equals price times quantity divided by two",
        "total = price * quantity / 2",
    ),
    (
        Code,
        "from collections import default dict",
        "from collections import default dict",
    ),
    (
        Code,
        "print open paren open quote hello world close quote close paren",
        "print(\"hello world\")",
    ),
];

#[test]
fn table_of_before_and_after() {
    assert!(CASES.len() >= 80, "only {} cases", CASES.len());
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|&(context, input, want)| {
            let got = RuleEnhancer
                .enhance(input, &EnhanceRequest::new(context))
                .expect("rules never fail")
                .text;
            (got != want)
                .then(|| format!("[{context}] {input:?}\n   want {want:?}\n    got {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

fn enhance(text: &str, request: &EnhanceRequest) -> String {
    RuleEnhancer.enhance(text, request).unwrap().text
}

#[test]
fn user_dictionary_replaces_and_respells_whole_words_in_any_case() {
    let dictionary = UserDictionary::new()
        .replace("voice flow", "VoiceFlow")
        .replace("btw", "by the way")
        .spelling("GitHub")
        .spelling("iPhone");
    let request = EnhanceRequest::new(General).dictionary(Arc::new(dictionary));
    for (input, want) in [
        (
            "i pushed voice flow to github",
            "I pushed VoiceFlow to GitHub.",
        ),
        ("Voice Flow and GITHUB", "VoiceFlow and GitHub."),
        ("btw it works", "By the way it works."),
        ("iphone is great", "iPhone is great."),
        ("githubs are not matched", "Githubs are not matched."),
    ] {
        assert_eq!(enhance(input, &request), want, "{input}");
    }
}

#[test]
fn emoji_words_only_when_asked() {
    let options = EnhanceOptions {
        emoji_words: true,
        ..EnhanceOptions::default()
    };
    let request = EnhanceRequest::new(Chat).options(options);
    assert_eq!(
        enhance("see you soon smiley face", &request),
        "See you soon :)"
    );
    assert_eq!(enhance("that hurts sad face", &request), "That hurts :(");
    assert_eq!(
        enhance("draw a smiley face", &request),
        "Draw a smiley face"
    );
}

#[test]
fn options_switch_rules_off() {
    let off = |f: fn(&mut EnhanceOptions)| {
        let mut options = EnhanceOptions::default();
        f(&mut options);
        EnhanceRequest::new(General).options(options)
    };
    let cases: [(EnhanceRequest, &str, &str); 4] = [
        (
            off(|o| o.remove_fillers = false),
            "um the the end",
            "Um the the end.",
        ),
        (
            off(|o| o.spoken_punctuation = false),
            "hello comma world",
            "Hello comma world.",
        ),
        (
            off(|o| o.numbers_to_digits = false),
            "twenty five percent",
            "Twenty five percent.",
        ),
        (
            off(|o| o.spoken_corrections = false),
            "five no wait six",
            "Five no wait six.",
        ),
    ];
    for (request, input, want) in cases {
        assert_eq!(enhance(input, &request), want, "{input}");
    }
}

#[test]
fn other_languages_get_only_language_neutral_rules() {
    let request = EnhanceRequest::new(General).language("fr");
    assert_eq!(enhance("um bonjour. ça va", &request), "Um bonjour. Ça va.");
    let request = EnhanceRequest::new(General).language("en-GB");
    assert_eq!(enhance("um hello", &request), "Hello.");
}

#[test]
fn edits_say_what_changed_and_how_often() {
    let out = RuleEnhancer
        .enhance(
            "um the the rate is twenty five percent",
            &EnhanceRequest::new(General),
        )
        .unwrap();
    assert_eq!(out.text, "The rate is 25%.");
    assert_eq!(out.backend, "rules");
    assert!(!out.is_fallback());
    assert_eq!(out.count(EditKind::Filler), 1);
    assert_eq!(out.count(EditKind::Repetition), 1);
    assert_eq!(out.count(EditKind::Number), 1);
    assert_eq!(out.count(EditKind::Capitalization), 1);
    assert_eq!(out.count(EditKind::Punctuation), 1);
    let number = out
        .edits
        .iter()
        .find(|e| e.kind == EditKind::Number)
        .unwrap();
    assert_eq!(
        (number.before.as_str(), number.after.as_str()),
        ("twenty five percent", "25%")
    );
    assert_eq!(out.counts().values().sum::<usize>(), out.edits.len());
}

#[test]
fn nothing_to_fix_means_no_edits() {
    let text = "The meeting is at 3:30 PM. Bring 12 copies.";
    let out = RuleEnhancer
        .enhance(text, &EnhanceRequest::new(General))
        .unwrap();
    assert_eq!(out.text, text);
    assert!(out.edits.is_empty(), "{:?}", out.edits);
}
