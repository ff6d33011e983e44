//! Keyword handling of inbound texts (API.md §6): what a text to a code does to the sender's
//! subscriptions on that code, and which replies it gets ([`react`]); and, for a code that
//! several accounts hold on one carrier, which of them a text acts in ([`route`]). Pure: the
//! engine reads the state, calls these and records the outcome in one store transaction.

use std::collections::BTreeMap;

use domain::{OptInRules, OptInType};
use store::{
    Keyword, Millis, OptOutWrite, PendingOptIn, Subscription, SubscriptionStatus, SubscriptionWrite,
};

/// A double opt-in request lapses after this long.
pub const PENDING_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// Default texts of a code when none are configured.
pub const DEFAULT_OPT_OUT_TEXT: &str =
    "You have been unsubscribed and will receive no more messages. Reply START to resubscribe.";
pub const DEFAULT_HELP_TEXT: &str = "Reply STOP to unsubscribe. Msg&data rates may apply.";

/// Words that unsubscribe from every keyword on the code.
pub const STOP_WORDS: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];
/// Words that re-subscribe (`YES` confirms pending requests first).
pub const START_WORDS: [&str; 3] = ["START", "UNSTOP", "YES"];
/// Words answered with the code's help text.
pub const HELP_WORDS: [&str; 2] = ["HELP", "INFO"];

/// True for a word with a fixed meaning on every code (it can't be an opt-in keyword).
pub fn is_reserved(word: &str) -> bool {
    let upper = word.trim().to_uppercase();
    STOP_WORDS
        .iter()
        .chain(START_WORDS.iter())
        .chain(HELP_WORDS.iter())
        .chain(["Y"].iter())
        .any(|w| *w == upper)
}

/// The texts of the code a text was sent to.
#[derive(Debug, Clone)]
pub struct CodeTexts {
    pub opt_out_text: String,
    pub help_text: String,
}

/// One number's subscriptions on one code, by keyword (lowercase), and its opt-out of the whole
/// code by text (since when), as they evolve through the texts of a batch.
#[derive(Debug, Clone, Default)]
pub struct NumberState {
    original: BTreeMap<String, Subscription>,
    current: BTreeMap<String, Subscription>,
    original_opt_out: Option<Millis>,
    opt_out: Option<Millis>,
}

impl NumberState {
    /// `subscriptions`: the number's subscriptions on the code.
    pub fn new(subscriptions: Vec<Subscription>) -> NumberState {
        let original: BTreeMap<String, Subscription> = subscriptions
            .into_iter()
            .map(|s| (s.keyword.to_lowercase(), s))
            .collect();
        NumberState {
            current: original.clone(),
            original,
            original_opt_out: None,
            opt_out: None,
        }
    }

    /// The number opted out of the whole code by text at `since` (`None`: it has not).
    pub fn with_opt_out(mut self, since: Option<Millis>) -> NumberState {
        self.original_opt_out = since;
        self.opt_out = since;
        self
    }

    /// The number's opt-out of the whole code by text, if it has one now.
    pub fn opt_out(&self) -> Option<Millis> {
        self.opt_out
    }

    /// The number's subscription to `keyword` (any case) now.
    pub fn subscription(&self, keyword: &str) -> Option<&Subscription> {
        self.current.get(&keyword.to_lowercase())
    }

    /// True when the number opted out here by its own text: of the whole code, or of a keyword
    /// that is still Unsubscribed (API.md §6: where START acts on a shared code).
    pub fn opted_out_by_text(&self) -> bool {
        self.opt_out.is_some()
            || self
                .current
                .values()
                .any(|s| s.status == SubscriptionStatus::Unsubscribed && s.opt_out_by_text)
    }

    /// True when a double opt-in request is pending (not lapsed) at `now`.
    pub fn has_pending(&self, now: Millis) -> bool {
        self.current.values().any(|s| is_pending(s, now))
    }

    /// True when `text` answers something this number was asked (not lapsed at `now`): a
    /// pending request of `keywords` it confirms (a Double request's valid response, `Y`/`YES`
    /// by default) or that takes any text (an Age request), or the next text a NextKeyword
    /// waits for. STOP- and HELP-family texts answer nothing.
    pub fn expects(&self, keywords: &[Keyword], text: &str, now: Millis) -> bool {
        let Some(word) = text.split_whitespace().next() else {
            return false;
        };
        let upper = word.to_uppercase();
        if STOP_WORDS.contains(&upper.as_str()) || HELP_WORDS.contains(&upper.as_str()) {
            return false;
        }
        self.current.values().any(|s| {
            let rules = keyword_of(keywords, &s.keyword).and_then(|k| k.opt_in.as_ref());
            (is_pending(s, now) && answers(rules, word))
                || (waits_for_next(s, now) && rules.is_some_and(|r| r.next_keyword.is_some()))
        })
    }

    /// The NextKeyword the number's next text begins with, if one waits (not lapsed at `now`);
    /// every wait ends (one text answers it).
    fn take_next(&mut self, keywords: &[&Keyword], now: Millis) -> Option<String> {
        let mut next = None;
        for sub in self.current.values_mut() {
            if sub
                .next_keyword_since
                .take()
                .is_some_and(|since| now - since < PENDING_LIFETIME_MS)
            {
                next = next.or_else(|| {
                    keyword_of(keywords.iter().copied(), &sub.keyword)
                        .and_then(|k| k.opt_in.as_ref())
                        .and_then(|r| r.next_keyword.clone())
                });
            }
        }
        next
    }

    /// The change to the number's opt-out of the code since `new`, to record.
    pub fn opt_out_writes(&self, number: &str) -> Vec<OptOutWrite> {
        match (self.original_opt_out, self.opt_out) {
            (None, Some(at)) => vec![OptOutWrite::Set {
                mobile_number: number.to_string(),
                at,
            }],
            (Some(_), None) => vec![OptOutWrite::Clear {
                mobile_number: number.to_string(),
            }],
            _ => Vec::new(),
        }
    }

    /// What changed since `new`, to record.
    pub fn writes(&self) -> Vec<SubscriptionWrite> {
        let mut out = Vec::new();
        for (key, sub) in &self.current {
            if self.original.get(key) != Some(sub) {
                out.push(SubscriptionWrite::Put(sub.clone()));
            }
        }
        for (key, sub) in &self.original {
            if !self.current.contains_key(key) {
                out.push(SubscriptionWrite::Remove {
                    mobile_number: sub.mobile_number.clone(),
                    keyword: sub.keyword.clone(),
                });
            }
        }
        out
    }

    fn lapse(&mut self, now: i64) {
        for sub in self.current.values_mut() {
            if sub
                .next_keyword_since
                .is_some_and(|since| now - since >= PENDING_LIFETIME_MS)
            {
                sub.next_keyword_since = None;
            }
        }
        let lapsed: Vec<String> = self
            .current
            .iter()
            .filter(|(_, s)| {
                s.pending
                    .is_some_and(|p| now - p.since >= PENDING_LIFETIME_MS)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in lapsed {
            end_request(self, &key);
        }
    }
}

fn set_status(sub: &mut Subscription, status: SubscriptionStatus, now: i64) {
    if sub.status != status {
        match status {
            SubscriptionStatus::Subscribed => sub.opt_in_date = Some(now),
            SubscriptionStatus::Unsubscribed => sub.opt_out_date = Some(now),
            SubscriptionStatus::InProgress => {}
        }
    }
    sub.status = status;
    sub.pending = None;
}

/// A request waiting for its answer, not lapsed at `now`.
fn is_pending(sub: &Subscription, now: Millis) -> bool {
    sub.status == SubscriptionStatus::InProgress
        && sub
            .pending
            .is_some_and(|p| now - p.since < PENDING_LIFETIME_MS)
}

/// A NextKeyword waiting for the number's next text, not lapsed at `now`.
fn waits_for_next(sub: &Subscription, now: Millis) -> bool {
    sub.next_keyword_since
        .is_some_and(|since| now - since < PENDING_LIFETIME_MS)
}

/// Whether `word` answers a pending request of a keyword with these rules: an Age request takes
/// any text (an age, or the error reply); a Double request its valid responses (`Y`, `YES` by
/// default, and for a keyword of the admin API).
fn answers(rules: Option<&OptInRules>, word: &str) -> bool {
    match rules {
        Some(r) if r.kind == OptInType::Age => true,
        Some(r) => r.confirms(word),
        None => {
            let upper = word.to_uppercase();
            upper == "Y" || upper == "YES"
        }
    }
}

/// The keyword named `word` (any case) among `keywords`.
fn keyword_of<'k>(
    keywords: impl IntoIterator<Item = &'k Keyword>,
    word: &str,
) -> Option<&'k Keyword> {
    let word = word.to_lowercase();
    keywords
        .into_iter()
        .find(|k| k.keyword.to_lowercase() == word)
}

/// An age as a reply to an Age request: the first word, a whole number.
fn age_of(word: &str) -> Option<u32> {
    (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse::<u32>().ok())
        .flatten()
}

fn fresh(number: &str, code: &str, keyword: &Keyword) -> Subscription {
    Subscription {
        mobile_number: number.to_string(),
        code: code.to_string(),
        keyword: keyword.keyword.clone(),
        status: SubscriptionStatus::Unsubscribed,
        opt_in_date: None,
        opt_out_date: None,
        pending: None,
        opt_out_by_text: false,
        next_keyword_since: None,
    }
}

/// The subscription of `keyword` just became Subscribed: its NextKeyword, if any, waits for the
/// number's next text.
fn await_next(sub: &mut Subscription, keyword: &Keyword, now: Millis) {
    if keyword
        .opt_in
        .as_ref()
        .is_some_and(|r| r.next_keyword.is_some())
    {
        sub.next_keyword_since = Some(now);
    }
}

fn non_blank(text: &Option<String>) -> Option<String> {
    text.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

/// How [`react_with`] treats START-family texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReactOptions {
    /// Re-subscribe only keywords whose last opt-out came from the number's own text (a code
    /// several accounts hold, API.md §6); otherwise every Unsubscribed keyword.
    pub start_only_text_opt_outs: bool,
}

/// Applies one inbound text from `number` to `code` (whose keywords are `keywords`) to the
/// number's state, and returns the replies to send, in order.
///
/// - `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `OPTOUT`, `REVOKE`: the number
///   opts out of the whole code (one record, however many keywords the code has: no import or
///   `Subscribe` subscribes it to any keyword of the code, keywords created later included);
///   each of its subscriptions on the code becomes Unsubscribed (pending requests and a waiting
///   NextKeyword are canceled), marked as opted out by text; one reply, the code's opt-out text.
/// - `HELP`, `INFO`: the code's help text.
/// - After a keyword with a NextKeyword (API.md §6b) subscribed the number, its next text (less
///   than 24 hours later, other than the two families above) is handled as if it began with
///   that keyword.
/// - Answers to pending requests (less than 24 hours old): a Double request is confirmed by
///   its valid responses (`Y`/`YES` by default); an Age request by a whole number at least the
///   minimum age — a smaller one replies the invalid-age text and ends the request, anything
///   else replies the error text and keeps it. A confirmed request becomes Subscribed and its
///   keyword's response is sent. `Y` with nothing pending is an ordinary text.
/// - `START`, `UNSTOP`, `YES`: the opt-out of the code ends; every Unsubscribed keyword becomes
///   Subscribed (with [`ReactOptions::start_only_text_opt_outs`], only those the number opted
///   out of by text); the first of them (by keyword) with a response sends it.
/// - an opt-in keyword: outside its start and end dates, the code's help text (nothing
///   changes); already Subscribed with a duplicate-opt-in text, that text; otherwise
///   Subscribed with its response, or — a double opt-in keyword (Double, Age) not yet
///   Subscribed — InProgress (remembering the status it goes back to if the request lapses)
///   with its confirm text.
/// - anything else: nothing.
///
/// The first word decides, ignoring case and surrounding whitespace.
pub fn react(
    code: &str,
    texts: &CodeTexts,
    keywords: &[Keyword],
    state: &mut NumberState,
    number: &str,
    text: &str,
    now: i64,
) -> Vec<String> {
    react_with(
        ReactOptions::default(),
        code,
        texts,
        keywords,
        state,
        number,
        text,
        now,
    )
}

/// [`react`] with options.
#[allow(clippy::too_many_arguments)]
pub fn react_with(
    options: ReactOptions,
    code: &str,
    texts: &CodeTexts,
    keywords: &[Keyword],
    state: &mut NumberState,
    number: &str,
    text: &str,
    now: i64,
) -> Vec<String> {
    state.lapse(now);
    let Some(first) = text.split_whitespace().next() else {
        return Vec::new();
    };
    let first_upper = first.to_uppercase();
    let mut keywords: Vec<&Keyword> = keywords.iter().collect();
    // Each key computed once: a code may have hundreds of keywords of up to 255 characters.
    keywords.sort_by_cached_key(|k| k.keyword.to_lowercase());

    if STOP_WORDS.contains(&first_upper.as_str()) {
        state.opt_out.get_or_insert(now);
        for sub in state.current.values_mut() {
            if sub.status != SubscriptionStatus::Unsubscribed || sub.opt_out_date.is_none() {
                sub.opt_out_date = Some(now);
                sub.opt_out_by_text = true;
            }
            sub.status = SubscriptionStatus::Unsubscribed;
            sub.pending = None;
            sub.next_keyword_since = None;
        }
        return vec![texts.opt_out_text.clone()];
    }
    if HELP_WORDS.contains(&first_upper.as_str()) {
        return vec![texts.help_text.clone()];
    }

    // A NextKeyword waiting for this text: the text is handled as if it began with it.
    let prefixed = state
        .take_next(&keywords, now)
        .map(|next| format!("{next} {}", text.trim()));
    let text = prefixed.as_deref().unwrap_or(text);
    let Some(word) = text.split_whitespace().next() else {
        return Vec::new();
    };
    let upper = word.to_uppercase();

    // Answers to pending requests: each Double request the word confirms; each Age request
    // (an age at least the minimum confirms, a smaller one ends the request, anything else gets
    // the error reply and keeps it).
    let mut replies = Vec::new();
    let mut answered = false;
    let mut ended = Vec::new();
    for k in &keywords {
        let key = k.keyword.to_lowercase();
        let Some(sub) = state.current.get_mut(&key) else {
            continue;
        };
        if !is_pending(sub, now) {
            continue;
        }
        let rules = k.opt_in.as_ref();
        if !answers(rules, word) {
            continue;
        }
        answered = true;
        let too_young = match rules.filter(|r| r.kind == OptInType::Age) {
            None => false,
            Some(r) => match age_of(word) {
                None => {
                    replies.extend(non_blank(&r.error_text));
                    continue;
                }
                Some(age) => age < r.minimum_age.unwrap_or(0),
            },
        };
        if too_young {
            replies.extend(rules.and_then(|r| non_blank(&r.invalid_age_text)));
            ended.push(key);
            continue;
        }
        set_status(sub, SubscriptionStatus::Subscribed, now);
        await_next(sub, k, now);
        replies.extend(non_blank(&k.response));
    }
    for key in ended {
        end_request(state, &key);
    }
    if answered || upper == "Y" {
        return replies;
    }

    if START_WORDS.contains(&upper.as_str()) {
        state.opt_out = None;
        let mut reply = None;
        for k in &keywords {
            let Some(sub) = state.current.get_mut(&k.keyword.to_lowercase()) else {
                continue;
            };
            if sub.status == SubscriptionStatus::Unsubscribed
                && (sub.opt_out_by_text || !options.start_only_text_opt_outs)
            {
                set_status(sub, SubscriptionStatus::Subscribed, now);
                if reply.is_none() {
                    reply = non_blank(&k.response);
                }
            }
        }
        return reply.into_iter().collect();
    }

    let word_key = word.to_lowercase();
    let Some(k) = keywords
        .iter()
        .find(|k| k.keyword.to_lowercase() == word_key)
    else {
        return Vec::new();
    };
    let rules = k.opt_in.as_ref();
    if rules.is_some_and(|r| !r.open_at(now)) {
        // Outside its dates the keyword does not subscribe: the code's help text answers.
        return vec![texts.help_text.clone()];
    }
    let key = k.keyword.to_lowercase();
    let existing = state.current.get(&key).cloned();
    let already = existing
        .as_ref()
        .is_some_and(|s| s.status == SubscriptionStatus::Subscribed);
    if already {
        if let Some(duplicate) = rules.and_then(|r| non_blank(&r.duplicate_text)) {
            return vec![duplicate];
        }
    }
    if k.double_opt_in && !already {
        let previous = match &existing {
            None => None,
            // A repeated request keeps what the first one would go back to.
            Some(s) => match s.pending {
                Some(p) => p.previous,
                None => Some(s.status),
            },
        };
        let mut sub = existing.unwrap_or_else(|| fresh(number, code, k));
        sub.status = SubscriptionStatus::InProgress;
        sub.pending = Some(PendingOptIn {
            since: now,
            previous,
        });
        state.current.insert(key, sub);
        return non_blank(&k.confirm_text).into_iter().collect();
    }
    let mut sub = existing.unwrap_or_else(|| fresh(number, code, k));
    set_status(&mut sub, SubscriptionStatus::Subscribed, now);
    await_next(&mut sub, k, now);
    state.current.insert(key, sub);
    non_blank(&k.response).into_iter().collect()
}

/// Ends a pending request without confirming it: the subscription goes back to what it was, or
/// is removed.
fn end_request(state: &mut NumberState, key: &str) {
    let Some(sub) = state.current.get_mut(key) else {
        return;
    };
    match sub.pending.and_then(|p| p.previous) {
        Some(previous) => {
            sub.status = previous;
            sub.pending = None;
        }
        None => {
            state.current.remove(key);
        }
    }
}

/// One account that holds a code several accounts share on one carrier, as [`route`] sees it:
/// its keywords on the code and the sender's state there.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub keywords: &'a [Keyword],
    pub state: &'a NumberState,
}

/// Where one inbound text acts: indexes into the holders, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The holders the text acts in (each records it, with what it does there).
    pub act: Vec<usize>,
    /// Those of them that send their replies; the others act silently.
    pub reply: Vec<usize>,
}

impl Route {
    fn only(holder: usize) -> Route {
        Route {
            act: vec![holder],
            reply: vec![holder],
        }
    }
}

/// Which of the accounts holding one code on one carrier an inbound text from the carrier acts
/// in (API.md §6 shared codes). `holders` come in the order their accounts created the code,
/// oldest first; `now` is when the text came.
///
/// - STOP family: every holder (the number opts out everywhere), one confirmation, from the
///   oldest.
/// - HELP family: the oldest holder.
/// - A text that answers something the number was asked (a pending request it confirms, an Age
///   request, a NextKeyword waiting): every holder where it does (each handles its own).
/// - START family (and `YES` with nothing pending): every holder where the number opted out by
///   text; the oldest of them replies. Where it opted out by text nowhere: the oldest holder.
/// - A text matching no keyword (`Y` with nothing pending included): the oldest holder.
/// - An opt-in keyword: the holder whose keyword was created first (ties: the older code); a
///   keyword only one holder has goes to it.
///
/// With no holders, the route is empty.
pub fn route(holders: &[Holder<'_>], text: &str, now: Millis) -> Route {
    if holders.is_empty() {
        return Route {
            act: Vec::new(),
            reply: Vec::new(),
        };
    }
    let Some(word) = text.split_whitespace().next() else {
        return Route::only(0);
    };
    let upper = word.to_uppercase();
    if STOP_WORDS.contains(&upper.as_str()) {
        return Route {
            act: (0..holders.len()).collect(),
            reply: vec![0],
        };
    }
    if HELP_WORDS.contains(&upper.as_str()) {
        return Route::only(0);
    }
    let expecting: Vec<usize> = (0..holders.len())
        .filter(|&i| holders[i].state.expects(holders[i].keywords, text, now))
        .collect();
    if !expecting.is_empty() {
        return Route {
            reply: expecting.clone(),
            act: expecting,
        };
    }
    if upper == "Y" {
        return Route::only(0);
    }
    if START_WORDS.contains(&upper.as_str()) {
        let opted: Vec<usize> = (0..holders.len())
            .filter(|&i| holders[i].state.opted_out_by_text())
            .collect();
        return match opted.first() {
            Some(&first) => Route {
                reply: vec![first],
                act: opted,
            },
            None => Route::only(0),
        };
    }
    let word = word.to_lowercase();
    let first = holders
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            h.keywords
                .iter()
                .find(|k| k.keyword.to_lowercase() == word)
                .map(|k| (k.created_at, i))
        })
        .min();
    Route::only(first.map_or(0, |(_, i)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyword(word: &str, response: Option<&str>, double: bool) -> Keyword {
        Keyword {
            id: word.to_lowercase(),
            account_id: "a".into(),
            code: "88976".into(),
            keyword: word.into(),
            response: response.map(str::to_string),
            double_opt_in: double,
            confirm_text: double.then(|| format!("Reply Y to join {word}")),
            created_at: 0,
            opt_in: None,
        }
    }

    /// A keyword of `message/optin` (API.md §6b).
    fn opt_in_keyword(word: &str, rules: OptInRules) -> Keyword {
        let double = rules.kind != OptInType::Single;
        Keyword {
            response: Some(format!("{word} confirmed")),
            confirm_text: double.then(|| format!("{word}: confirm?")),
            double_opt_in: double,
            opt_in: Some(rules),
            ..keyword(word, None, false)
        }
    }

    #[test]
    fn double_opt_in_with_custom_valid_responses() {
        let rules = OptInRules {
            kind: OptInType::Double,
            valid_responses: vec!["SURE".into(), "OK".into()],
            ..OptInRules::default()
        };
        let kws = [opt_in_keyword("DEALS", rules)];
        let mut st = NumberState::new(Vec::new());
        let t = |st: &mut NumberState, text: &str, at: i64| {
            react("88976", &texts(), &kws, st, N, text, at)
        };
        assert_eq!(t(&mut st, "deals", 1), vec!["DEALS: confirm?"]);
        // Y is not one of this keyword's responses: an ordinary text, nothing pending changes.
        assert!(t(&mut st, "Y", 2).is_empty());
        assert_eq!(status(&st, "DEALS"), Some(SubscriptionStatus::InProgress));
        assert!(st.expects(&kws, "sure", 3) && !st.expects(&kws, "y", 3));
        assert_eq!(t(&mut st, " sure thing", 3), vec!["DEALS confirmed"]);
        assert_eq!(status(&st, "DEALS"), Some(SubscriptionStatus::Subscribed));
    }

    #[test]
    fn age_opt_in_confirms_refuses_or_asks_again() {
        let rules = OptInRules {
            kind: OptInType::Age,
            minimum_age: Some(18),
            invalid_age_text: Some("Too young".into()),
            error_text: Some("Send your age as a number".into()),
            ..OptInRules::default()
        };
        let kws = [opt_in_keyword("CLUB", rules)];
        let t = |st: &mut NumberState, text: &str, at: i64| {
            react("88976", &texts(), &kws, st, N, text, at)
        };
        let mut st = NumberState::new(Vec::new());
        assert_eq!(t(&mut st, "club", 1), vec!["CLUB: confirm?"]);
        assert_eq!(t(&mut st, "eighteen", 2), vec!["Send your age as a number"]);
        assert_eq!(t(&mut st, "YES", 2), vec!["Send your age as a number"]);
        assert_eq!(status(&st, "CLUB"), Some(SubscriptionStatus::InProgress));
        // HELP is still HELP.
        assert_eq!(t(&mut st, "help", 2), vec!["Help!"]);
        assert_eq!(t(&mut st, "17", 3), vec!["Too young"]);
        assert_eq!(status(&st, "CLUB"), None, "the request ended");
        assert!(t(&mut st, "25", 4).is_empty(), "nothing pending any more");
        assert_eq!(t(&mut st, "CLUB", 5), vec!["CLUB: confirm?"]);
        assert_eq!(t(&mut st, "18", 6), vec!["CLUB confirmed"]);
        assert_eq!(status(&st, "CLUB"), Some(SubscriptionStatus::Subscribed));
    }

    #[test]
    fn next_keyword_prefixes_the_next_text_but_not_stop_or_help() {
        let join = opt_in_keyword(
            "JOIN",
            OptInRules {
                kind: OptInType::Single,
                next_keyword: Some("ZIP".into()),
                ..OptInRules::default()
            },
        );
        let kws = [join, keyword("ZIP", Some("Thanks for your zip"), false)];
        let t = |st: &mut NumberState, text: &str, at: i64| {
            react("88976", &texts(), &kws, st, N, text, at)
        };
        let mut st = NumberState::new(Vec::new());
        assert_eq!(t(&mut st, "join", 1), vec!["JOIN confirmed"]);
        assert!(st.expects(&kws, "90210", 2));
        assert_eq!(t(&mut st, "help", 2), vec!["Help!"], "HELP first");
        assert_eq!(t(&mut st, "90210", 3), vec!["Thanks for your zip"]);
        assert_eq!(status(&st, "ZIP"), Some(SubscriptionStatus::Subscribed));
        assert!(t(&mut st, "90211", 4).is_empty(), "only the next text");
        // STOP cancels the wait.
        let mut st = NumberState::new(Vec::new());
        t(&mut st, "join", 1);
        assert_eq!(t(&mut st, "stop", 2), vec!["Bye"]);
        assert!(t(&mut st, "90210", 3).is_empty());
        // And it lapses after a day.
        let mut st = NumberState::new(Vec::new());
        t(&mut st, "join", 1);
        assert!(t(&mut st, "90210", 1 + PENDING_LIFETIME_MS).is_empty());
    }

    #[test]
    fn duplicate_opt_in_and_dates() {
        let rules = OptInRules {
            kind: OptInType::Single,
            duplicate_text: Some("Already in".into()),
            start_date: domain::Day::parse("2026-12-07"),
            end_date: domain::Day::parse("2026-12-07"),
            ..OptInRules::default()
        };
        let kws = [opt_in_keyword("JOIN", rules)];
        // 2026-12-07T00:00 CST, and the day's end.
        let open = 1_796_623_200_000;
        let t = |st: &mut NumberState, text: &str, at: i64| {
            react("88976", &texts(), &kws, st, N, text, at)
        };
        let mut st = NumberState::new(Vec::new());
        assert_eq!(t(&mut st, "join", open - 1), vec!["Help!"]);
        assert_eq!(status(&st, "JOIN"), None);
        assert_eq!(t(&mut st, "join", open), vec!["JOIN confirmed"]);
        assert_eq!(t(&mut st, "JOIN", open + 1), vec!["Already in"]);
        assert_eq!(t(&mut st, "join", open + 86_400_000), vec!["Help!"]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
    }

    fn texts() -> CodeTexts {
        CodeTexts {
            opt_out_text: "Bye".into(),
            help_text: "Help!".into(),
        }
    }

    const N: &str = "15555555510";

    fn status(state: &NumberState, keyword: &str) -> Option<SubscriptionStatus> {
        state.current.get(&keyword.to_lowercase()).map(|s| s.status)
    }

    #[test]
    fn opt_in_keyword_subscribes_and_replies_ignoring_case_and_spaces() {
        let kws = [keyword("JOIN", Some("Welcome"), false)];
        let mut st = NumberState::new(Vec::new());
        let r = react("88976", &texts(), &kws, &mut st, N, "  join now ", 5);
        assert_eq!(r, vec!["Welcome".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        let writes = st.writes();
        assert_eq!(writes.len(), 1);
        match &writes[0] {
            SubscriptionWrite::Put(s) => assert_eq!(s.opt_in_date, Some(5)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stop_opts_out_of_the_code_once_unsubscribes_every_keyword_and_confirms_once() {
        let kws = [
            keyword("JOIN", Some("Welcome"), false),
            keyword("DEALS", None, false),
        ];
        let mut st = NumberState::new(Vec::new());
        react("88976", &texts(), &kws, &mut st, N, "JOIN", 1);
        let r = react("88976", &texts(), &kws, &mut st, N, "stop", 2);
        assert_eq!(r, vec!["Bye".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Unsubscribed));
        assert!(st.subscription("JOIN").is_some_and(|s| s.opt_out_by_text));
        // A keyword the number never had gets no row of its own: the one opt-out of the code
        // covers it (and every keyword created later), whatever the number of keywords.
        assert_eq!(status(&st, "DEALS"), None);
        assert_eq!(st.opt_out(), Some(2));
        assert!(st.opted_out_by_text());
        assert_eq!(
            st.opt_out_writes(N),
            vec![OptOutWrite::Set {
                mobile_number: N.into(),
                at: 2
            }]
        );
        // A second STOP keeps the first opt-out's date.
        react("88976", &texts(), &kws, &mut st, N, "QUIT", 3);
        assert_eq!(st.opt_out(), Some(2));
        let r = react("88976", &texts(), &kws, &mut st, N, "START", 3);
        assert_eq!(r, vec!["Welcome".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        assert_eq!(status(&st, "DEALS"), None);
        assert_eq!(st.opt_out(), None);
        assert!(!st.opted_out_by_text());
        assert_eq!(
            react("88976", &texts(), &kws, &mut st, N, "info", 4),
            vec!["Help!".to_string()]
        );
        assert!(react("88976", &texts(), &kws, &mut st, N, "hello", 4).is_empty());
    }

    fn unsubscribed(keyword: &str, by_text: bool) -> Subscription {
        Subscription {
            mobile_number: N.into(),
            code: "88976".into(),
            keyword: keyword.into(),
            status: SubscriptionStatus::Unsubscribed,
            opt_in_date: Some(1),
            opt_out_date: Some(2),
            pending: None,
            opt_out_by_text: by_text,
            next_keyword_since: None,
        }
    }

    #[test]
    fn start_on_a_shared_code_resubscribes_only_what_the_number_opted_out_of_by_text() {
        let kws = [
            keyword("JOIN", Some("Welcome"), false),
            keyword("ALERTS", Some("Alerts on"), false),
        ];
        let subs = vec![unsubscribed("ALERTS", false), unsubscribed("JOIN", true)];
        let shared = ReactOptions {
            start_only_text_opt_outs: true,
        };
        let mut st = NumberState::new(subs.clone()).with_opt_out(Some(2));
        let r = react_with(shared, "88976", &texts(), &kws, &mut st, N, "unstop", 5);
        assert_eq!(r, vec!["Welcome".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        assert_eq!(
            status(&st, "ALERTS"),
            Some(SubscriptionStatus::Unsubscribed)
        );
        assert_eq!(
            st.opt_out_writes(N),
            vec![OptOutWrite::Clear {
                mobile_number: N.into()
            }]
        );
        // One account alone: START re-subscribes every opted-out keyword, as it always did.
        let mut st = NumberState::new(subs);
        let r = react("88976", &texts(), &kws, &mut st, N, "START", 5);
        assert_eq!(r, vec!["Alerts on".to_string()]);
        assert_eq!(status(&st, "JOIN"), Some(SubscriptionStatus::Subscribed));
        assert_eq!(status(&st, "ALERTS"), Some(SubscriptionStatus::Subscribed));
        assert!(st.opt_out_writes(N).is_empty());
    }

    #[test]
    fn stop_keeps_an_operators_earlier_opt_out_as_the_operators() {
        let kws = [keyword("JOIN", Some("Welcome"), false)];
        let mut st = NumberState::new(vec![unsubscribed("JOIN", false)]);
        react("88976", &texts(), &kws, &mut st, N, "STOP", 9);
        let sub = st.subscription("JOIN").expect("kept");
        assert!(!sub.opt_out_by_text);
        assert_eq!(sub.opt_out_date, Some(2));
        assert!(st.writes().is_empty());
        assert_eq!(st.opt_out(), Some(9));
    }

    #[test]
    fn double_opt_in_waits_for_yes_within_a_day_and_lapses_back() {
        let kws = [keyword("VIP", Some("You're in"), true)];
        let mut st = NumberState::new(Vec::new());
        let r = react("88976", &texts(), &kws, &mut st, N, "vip", 10);
        assert_eq!(r, vec!["Reply Y to join VIP".to_string()]);
        assert_eq!(status(&st, "VIP"), Some(SubscriptionStatus::InProgress));
        let r = react("88976", &texts(), &kws, &mut st, N, "Y", 20);
        assert_eq!(r, vec!["You're in".to_string()]);
        assert_eq!(status(&st, "VIP"), Some(SubscriptionStatus::Subscribed));

        // A request that lapses goes back to what it was (here: removed).
        let mut st = NumberState::new(Vec::new());
        react("88976", &texts(), &kws, &mut st, N, "VIP", 10);
        let r = react(
            "88976",
            &texts(),
            &kws,
            &mut st,
            N,
            "yes",
            10 + PENDING_LIFETIME_MS,
        );
        assert!(r.is_empty(), "nothing pending, nothing to restart: {r:?}");
        assert_eq!(status(&st, "VIP"), None);
        assert!(st.writes().is_empty());

        // Y with nothing pending is an ordinary text.
        assert!(react("88976", &texts(), &kws, &mut st, N, "y", 1).is_empty());
    }

    #[test]
    fn reserved_words_are_recognised() {
        for w in ["stop", "Start", "HELP", "y", "Yes", "optout"] {
            assert!(is_reserved(w), "{w}");
        }
        assert!(!is_reserved("JOIN"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Any sequence of texts: no panic; a STOP-family text always replies exactly once and
        /// leaves every keyword Unsubscribed; a number never ends up InProgress without a
        /// pending request.
        #[test]
        fn any_texts_keep_the_rules(
            inputs in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just("STOP".to_string()),
                    proptest::prelude::Just(" quit now".to_string()),
                    proptest::prelude::Just("y".to_string()),
                    proptest::prelude::Just("YES".to_string()),
                    proptest::prelude::Just("start".to_string()),
                    proptest::prelude::Just("help".to_string()),
                    proptest::prelude::Just("join".to_string()),
                    proptest::prelude::Just("VIP".to_string()),
                    ".{0,10}",
                ],
                0..12,
            ),
            gaps in proptest::collection::vec(0i64..(2 * PENDING_LIFETIME_MS), 12),
        ) {
            let kws = [keyword("JOIN", Some("Welcome"), false), keyword("VIP", Some("In"), true)];
            let mut st = NumberState::new(Vec::new());
            let mut now = 0;
            for (text, gap) in inputs.iter().zip(gaps) {
                now += gap;
                let replies = react("88976", &texts(), &kws, &mut st, N, text, now);
                let first = text.split_whitespace().next().unwrap_or("").to_uppercase();
                if STOP_WORDS.contains(&first.as_str()) {
                    proptest::prop_assert_eq!(replies, vec!["Bye".to_string()]);
                    proptest::prop_assert!(st.current.values().all(|s| s.status == SubscriptionStatus::Unsubscribed));
                    proptest::prop_assert!(st.opt_out().is_some());
                }
                if first == "START" || first == "UNSTOP" {
                    proptest::prop_assert!(st.opt_out().is_none());
                }
                for sub in st.current.values() {
                    proptest::prop_assert_eq!(sub.status == SubscriptionStatus::InProgress, sub.pending.is_some());
                }
            }
            let _ = st.writes();
        }
    }

    fn keyword_at(word: &str, created_at: i64) -> Keyword {
        Keyword {
            created_at,
            ..keyword(word, Some(&format!("{word} on")), false)
        }
    }

    fn pending(keyword: &str, since: i64) -> Subscription {
        Subscription {
            status: SubscriptionStatus::InProgress,
            pending: Some(PendingOptIn {
                since,
                previous: None,
            }),
            opt_out_by_text: false,
            ..unsubscribed(keyword, false)
        }
    }

    #[test]
    fn route_sends_stop_everywhere_with_one_confirmation_from_the_oldest() {
        let kws = [keyword_at("JOIN", 0)];
        let none = NumberState::default();
        let holders = [Holder {
            keywords: &kws,
            state: &none,
        }; 3];
        for text in ["STOP", " optout now", "Cancel"] {
            assert_eq!(
                route(&holders, text, 0),
                Route {
                    act: vec![0, 1, 2],
                    reply: vec![0]
                },
                "{text}"
            );
        }
        for text in ["HELP", "info", "hello", "", "   ", "Y", "START", "YES"] {
            assert_eq!(route(&holders, text, 0), Route::only(0), "{text}");
        }
        assert_eq!(
            route(&[], "STOP", 0),
            Route {
                act: vec![],
                reply: vec![]
            }
        );
    }

    #[test]
    fn route_sends_start_where_the_number_opted_out_by_text() {
        let kws = [keyword_at("JOIN", 0)];
        let none = NumberState::default();
        let by_operator = NumberState::new(vec![unsubscribed("JOIN", false)]);
        let by_text = NumberState::new(vec![unsubscribed("JOIN", true)]);
        let code_opt_out = NumberState::default().with_opt_out(Some(3));
        let holders = [
            Holder {
                keywords: &kws,
                state: &by_operator,
            },
            Holder {
                keywords: &kws,
                state: &by_text,
            },
            Holder {
                keywords: &kws,
                state: &none,
            },
            Holder {
                keywords: &kws,
                state: &code_opt_out,
            },
        ];
        for text in ["START", "unstop", "Yes"] {
            assert_eq!(
                route(&holders, text, 0),
                Route {
                    act: vec![1, 3],
                    reply: vec![1]
                },
                "{text}"
            );
        }
    }

    #[test]
    fn route_sends_a_confirmation_where_a_request_is_pending() {
        let kws = [keyword_at("VIP", 0)];
        let none = NumberState::default();
        let live = NumberState::new(vec![pending("VIP", 10)]);
        let lapsed = NumberState::new(vec![pending("VIP", 10 - PENDING_LIFETIME_MS)]);
        let holders = [
            Holder {
                keywords: &kws,
                state: &none,
            },
            Holder {
                keywords: &kws,
                state: &live,
            },
            Holder {
                keywords: &kws,
                state: &lapsed,
            },
            Holder {
                keywords: &kws,
                state: &live,
            },
        ];
        for text in ["Y", "yes please"] {
            assert_eq!(
                route(&holders, text, 20),
                Route {
                    act: vec![1, 3],
                    reply: vec![1, 3]
                },
                "{text}"
            );
        }
    }

    #[test]
    fn route_sends_a_keyword_to_the_account_that_created_it_first() {
        let none = NumberState::default();
        let oldest = [keyword_at("JOIN", 5), keyword_at("SALE", 30)];
        let middle = [keyword_at("join", 1), keyword_at("SALE", 20)];
        let youngest = [keyword_at("SALE", 20), keyword_at("ONLY", 50)];
        let holders = [
            Holder {
                keywords: &oldest,
                state: &none,
            },
            Holder {
                keywords: &middle,
                state: &none,
            },
            Holder {
                keywords: &youngest,
                state: &none,
            },
        ];
        assert_eq!(route(&holders, "Join", 0), Route::only(1));
        // Created at the same instant: the account that created the code first.
        assert_eq!(route(&holders, "sale now", 0), Route::only(1));
        assert_eq!(route(&holders, " only", 0), Route::only(2));
        assert_eq!(route(&holders, "nothing", 0), Route::only(0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Any holders and text: a route acts somewhere (unless there are no holders), replies
        /// only where it acts, in ascending order; a STOP-family text acts everywhere with one
        /// reply from the oldest; anything else but START, `Y`/`YES` acts in one account.
        #[test]
        fn routes_keep_the_shared_code_rules(
            holders in proptest::collection::vec(
                (
                    proptest::collection::vec((0usize..4, 0i64..5), 0..4),
                    proptest::prop_oneof![
                        proptest::prelude::Just(None),
                        proptest::prelude::Just(Some(true)),
                        proptest::prelude::Just(Some(false)),
                    ],
                    proptest::option::of(0i64..(2 * PENDING_LIFETIME_MS)),
                    proptest::prelude::any::<bool>(),
                ),
                0..5,
            ),
            text in proptest::prop_oneof![
                proptest::prelude::Just("STOP".to_string()),
                proptest::prelude::Just("end".to_string()),
                proptest::prelude::Just("START".to_string()),
                proptest::prelude::Just("yes".to_string()),
                proptest::prelude::Just("Y".to_string()),
                proptest::prelude::Just("help".to_string()),
                proptest::prelude::Just("a".to_string()),
                proptest::prelude::Just("C d".to_string()),
                ".{0,6}",
            ],
            now in 0i64..(2 * PENDING_LIFETIME_MS),
        ) {
            let words = ["A", "B", "C", "D"];
            let data: Vec<(Vec<Keyword>, NumberState)> = holders
                .iter()
                .map(|(kws, opted, since, code_opt_out)| {
                    let mut seen = std::collections::BTreeSet::new();
                    let kws: Vec<Keyword> = kws
                        .iter()
                        .filter(|(w, _)| seen.insert(*w))
                        .map(|(w, at)| keyword_at(words[*w], *at))
                        .collect();
                    let mut subs = Vec::new();
                    if let (Some(by_text), Some(k)) = (opted, kws.first()) {
                        subs.push(unsubscribed(&k.keyword, *by_text));
                    }
                    if let (Some(since), Some(k)) = (since, kws.get(1)) {
                        subs.push(pending(&k.keyword, *since));
                    }
                    let state = NumberState::new(subs)
                        .with_opt_out(code_opt_out.then_some(1));
                    (kws, state)
                })
                .collect();
            let hs: Vec<Holder<'_>> = data
                .iter()
                .map(|(keywords, state)| Holder { keywords, state })
                .collect();
            let r = route(&hs, &text, now);
            if hs.is_empty() {
                proptest::prop_assert!(r.act.is_empty() && r.reply.is_empty());
                return Ok(());
            }
            proptest::prop_assert!(!r.act.is_empty());
            proptest::prop_assert!(r.act.windows(2).all(|w| w[0] < w[1]));
            proptest::prop_assert!(r.act.iter().all(|&i| i < hs.len()));
            proptest::prop_assert!(r.reply.iter().all(|i| r.act.contains(i)));
            let first = text.split_whitespace().next().unwrap_or("").to_uppercase();
            if STOP_WORDS.contains(&first.as_str()) {
                proptest::prop_assert_eq!(r.act.clone(), (0..hs.len()).collect::<Vec<_>>());
                proptest::prop_assert_eq!(r.reply.clone(), vec![0]);
            } else if first == "Y" || first == "YES" {
                let pending: Vec<usize> =
                    (0..hs.len()).filter(|&i| hs[i].state.has_pending(now)).collect();
                if !pending.is_empty() {
                    proptest::prop_assert_eq!(r.act.clone(), pending.clone());
                    proptest::prop_assert_eq!(r.reply.clone(), pending);
                }
            } else if first == "START" {
                proptest::prop_assert_eq!(r.reply.len(), 1);
                let opted: Vec<usize> =
                    (0..hs.len()).filter(|&i| hs[i].state.opted_out_by_text()).collect();
                if opted.is_empty() {
                    proptest::prop_assert_eq!(r.act.clone(), vec![0]);
                } else {
                    proptest::prop_assert_eq!(r.act.clone(), opted);
                }
            } else {
                proptest::prop_assert_eq!(r.act.len(), 1);
                proptest::prop_assert_eq!(r.reply.clone(), r.act.clone());
                // A keyword goes to the holder that created it first.
                let holding: Vec<(i64, usize)> = hs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| {
                        h.keywords
                            .iter()
                            .find(|k| k.keyword.eq_ignore_ascii_case(&first))
                            .map(|k| (k.created_at, i))
                    })
                    .collect();
                let expected = holding.iter().min().map_or(0, |(_, i)| *i);
                proptest::prop_assert_eq!(r.act[0], expected);
            }
        }
    }
}
