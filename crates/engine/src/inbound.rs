//! Inbound texts (API.md §6): from a carrier, or `queueMO`, to the keyword rules of
//! `keywords` and one store transaction with what they decided — subscriptions, the texts, the
//! send of the replies; on a code several accounts hold, in each account the rules route it to.

use std::collections::HashMap;

use store::StoreResult;

use crate::{keywords, Engine};

/// What keyword handling read of one account's code for a batch of texts (see `load_mo`).
struct LoadedMo {
    keywords: Vec<store::Keyword>,
    /// Number → its place in `states`.
    index: HashMap<String, usize>,
    states: Vec<(String, keywords::NumberState)>,
}

/// The state of a number with nothing on a code.
static EMPTY_STATE: std::sync::LazyLock<keywords::NumberState> =
    std::sync::LazyLock::new(keywords::NumberState::default);

impl Engine {
    /// The one entry point for inbound texts from carriers: the text is matched to the code it
    /// was sent to and handled as a keyword (API.md §6); its replies go out as a send of their
    /// own. A text to no known code is only recorded. When several accounts hold the code on
    /// the carrier, [`keywords::route`] decides which of them it acts in; every one of them
    /// records it, all in one transaction.
    pub async fn inbound(&self, text: store::InboundText) -> StoreResult<()> {
        let codes = self
            .inner
            .store
            .codes_for_inbound(&text.carrier, &text.to)
            .await?;
        if codes.is_empty() {
            let record = self.inner.store.record_inbound(text).await?;
            tracing::info!(
                seq = record.seq,
                carrier = %record.text.carrier,
                "inbound text to no known code recorded"
            );
            return Ok(());
        }
        let shared = codes.len() > 1;
        let mut loaded = Vec::with_capacity(codes.len());
        for code in &codes {
            loaded.push(self.load_mo(code, std::slice::from_ref(&text)).await?);
        }
        let route = if shared {
            let holders: Vec<keywords::Holder<'_>> = loaded
                .iter()
                .map(|l| keywords::Holder {
                    keywords: &l.keywords,
                    state: l.states.first().map_or(&EMPTY_STATE, |(_, s)| s),
                })
                .collect();
            keywords::route(&holders, &text.text, text.received_at)
        } else {
            keywords::Route {
                act: vec![0],
                reply: vec![0],
            }
        };
        let options = keywords::ReactOptions {
            start_only_text_opt_outs: shared,
        };
        let mut batches = Vec::with_capacity(route.act.len());
        let mut tokens = Vec::new();
        for (i, mo) in loaded.into_iter().enumerate() {
            if !route.act.contains(&i) {
                continue;
            }
            let replies = route.reply.contains(&i);
            let batch = self.plan_mo(
                &codes[i],
                mo,
                vec![text.clone()],
                None,
                false,
                replies,
                options,
            );
            if let Some(send) = &batch.reply_send {
                tokens.push(send.token.clone());
            }
            batches.push(batch);
        }
        self.inner.store.record_mo_batches(batches).await?;
        if !tokens.is_empty() {
            self.inner.wake.notify_waiters();
        }
        tracing::info!(
            code = %codes[0].code,
            accounts = route.act.len(),
            replies = tokens.first().map_or("-", String::as_str),
            "inbound text handled"
        );
        Ok(())
    }

    /// `POST /sms/v1/queueMO` (API.md §6): each number is handled exactly as if it had texted
    /// `text` to `code`, in the caller's account only (a code other accounts share is not
    /// routed). Returns the token of the send that carries the replies (recorded even when
    /// there are none, so that its deliveries and history can be read).
    pub async fn queue_mo(
        &self,
        code: &store::Code,
        numbers: &[String],
        text: &str,
        client_id: Option<String>,
    ) -> StoreResult<String> {
        let now = self.now();
        let texts: Vec<store::InboundText> = numbers
            .iter()
            .map(|n| store::InboundText {
                carrier: code.carrier.clone(),
                from: n.clone(),
                to: code.code.clone(),
                text: text.to_string(),
                received_at: now,
            })
            .collect();
        let mo = self.load_mo(code, &texts).await?;
        let batch = self.plan_mo(
            code,
            mo,
            texts,
            client_id,
            true,
            true,
            keywords::ReactOptions::default(),
        );
        let token = batch.reply_send.as_ref().map(|s| s.token.clone());
        let replies = batch
            .reply_send
            .as_ref()
            .is_some_and(|s| !s.replies.is_empty());
        self.inner.store.record_mo(batch).await?;
        if replies {
            self.inner.wake.notify_waiters();
        }
        token.ok_or_else(|| store::StoreError::Other("queueMO recorded no send".into()))
    }

    /// What keyword handling needs of one account's code for the senders of `texts`: the
    /// code's keywords and texts, and each sender's state there (read for the whole batch at
    /// once), numbers in order of first appearance.
    async fn load_mo(
        &self,
        code: &store::Code,
        texts: &[store::InboundText],
    ) -> StoreResult<LoadedMo> {
        let store = &self.inner.store;
        let code_keywords: Vec<store::Keyword> = store
            .list_keywords(&code.account_id)
            .await?
            .into_iter()
            .filter(|k| k.code.eq_ignore_ascii_case(&code.code))
            .collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut numbers: Vec<String> = Vec::new();
        for t in texts {
            if !index.contains_key(&t.from) {
                index.insert(t.from.clone(), numbers.len());
                numbers.push(t.from.clone());
            }
        }
        let mut current: Vec<Vec<store::Subscription>> = vec![Vec::new(); numbers.len()];
        for sub in store
            .subscriptions_on_code(&code.account_id, &code.code, &numbers)
            .await?
        {
            if let Some(&i) = index.get(&sub.mobile_number) {
                current[i].push(sub);
            }
        }
        let mut opt_outs: Vec<Option<i64>> = vec![None; numbers.len()];
        for o in store
            .opt_outs_on_code(&code.account_id, &code.code, &numbers)
            .await?
        {
            if let Some(&i) = index.get(&o.mobile_number) {
                opt_outs[i] = Some(o.opted_out_at);
            }
        }
        let states = numbers
            .into_iter()
            .zip(current.into_iter().zip(opt_outs))
            .map(|(n, (subs, opt_out))| (n, keywords::NumberState::new(subs).with_opt_out(opt_out)))
            .collect();
        Ok(LoadedMo {
            keywords: code_keywords,
            index,
            states,
        })
    }

    /// Keyword handling of `texts` to one account's code: the batch to record. Without
    /// `replies` the texts act silently (another account confirms); the reply send is recorded
    /// when there are replies, or always with `always_send`.
    #[allow(clippy::too_many_arguments)]
    fn plan_mo(
        &self,
        code: &store::Code,
        mo: LoadedMo,
        texts: Vec<store::InboundText>,
        client_id: Option<String>,
        always_send: bool,
        replies_allowed: bool,
        options: keywords::ReactOptions,
    ) -> store::MoBatch {
        let code_texts = keywords::CodeTexts {
            opt_out_text: code
                .opt_out_text
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| keywords::DEFAULT_OPT_OUT_TEXT.to_string()),
            help_text: code
                .help_text
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| keywords::DEFAULT_HELP_TEXT.to_string()),
        };
        let LoadedMo {
            keywords: code_keywords,
            index,
            mut states,
        } = mo;
        let mut replies = Vec::new();
        for t in &texts {
            let Some(&i) = index.get(&t.from) else {
                continue;
            };
            let (number, state) = &mut states[i];
            let reactions = keywords::react_with(
                options,
                &code.code,
                &code_texts,
                &code_keywords,
                state,
                number,
                &t.text,
                t.received_at,
            );
            if replies_allowed {
                replies.extend(reactions.into_iter().map(|reply| store::ReplyText {
                    mobile_number: number.clone(),
                    text: reply,
                }));
            }
        }
        let subscriptions = states.iter().flat_map(|(_, s)| s.writes()).collect();
        let opt_outs = states
            .iter()
            .flat_map(|(n, s)| s.opt_out_writes(n))
            .collect();
        let now = self.now();
        let reply_send = (always_send || !replies.is_empty()).then(|| {
            let shown = texts.first().map(|t| t.text.clone()).unwrap_or_default();
            let info = domain::text::analyze(&shown);
            store::ReplySend {
                token: domain::mint_token(),
                client_id,
                text: shown,
                segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
                encoding: info.encoding.as_str().to_string(),
                replies,
                created_at: now,
            }
        });
        store::MoBatch {
            account_id: code.account_id.clone(),
            code: code.code.clone(),
            texts,
            subscriptions,
            opt_outs,
            reply_send,
        }
    }
}
