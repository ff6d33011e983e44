-- Opt-in messages (API.md §6b `message/optin`): what a keyword adds to how it subscribes —
-- Double with its own valid responses, Age with its minimum age and replies, a reply to numbers
-- already subscribed, start and end days, a NextKeyword — kept with the keyword as JSON
-- (`domain::OptInRules`; NULL for a keyword of the admin API or `POST /sms/v1/keyword`).
ALTER TABLE keywords ADD COLUMN opt_in TEXT;

-- Since when a subscription's NextKeyword waits for the number's next text (NULL: none waits).
ALTER TABLE subscriptions ADD COLUMN next_keyword_since BIGINT;
