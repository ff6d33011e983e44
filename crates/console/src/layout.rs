//! The page shell and the small pieces every page uses: navigation, notices, error lists, form
//! fields with their labels, copy buttons. Every value is written through maud, which escapes it.

use maud::{html, Markup, DOCTYPE};
use store::Account;

use super::{seg, BASE};

/// Where a page belongs, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    None,
    Accounts,
    Outbox,
    Overview,
    Codes,
    Keywords,
    Messages,
    Lists,
    Sends,
    Definitions,
}

/// What the shell around a page needs.
pub(crate) struct Chrome<'a> {
    /// The session's CSRF token (for the sign-out form); `None` when signed out.
    pub csrf: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub account: Option<&'a Account>,
    pub section: Section,
}

impl<'a> Chrome<'a> {
    pub fn plain(csrf: Option<&'a str>) -> Chrome<'a> {
        Chrome {
            csrf,
            notice: None,
            account: None,
            section: Section::None,
        }
    }
}

fn nav_link(href: &str, label: &str, current: bool) -> Markup {
    html! {
        a href=(href) aria-current=[current.then_some("page")] { (label) }
    }
}

/// A whole page.
pub(crate) fn page(chrome: &Chrome<'_>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tidings console" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href={ (BASE) "/assets/console.css" };
                script src={ (BASE) "/assets/console.js" } defer {}
            }
            body {
                header.top {
                    a.brand href={ (BASE) "/accounts" } { "Tidings" }
                    @if let Some(csrf) = chrome.csrf {
                        nav.main aria-label="Main" {
                            (nav_link(&format!("{BASE}/accounts"), "Accounts",
                                chrome.section == Section::Accounts))
                            (nav_link(&format!("{BASE}/outbox"), "Outbox",
                                chrome.section == Section::Outbox))
                        }
                        form.signout method="post" action={ (BASE) "/sign-out" } {
                            (csrf_field(csrf))
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                @if let Some(account) = chrome.account {
                    (account_nav(account, chrome.section))
                }
                main {
                    @if let Some(notice) = chrome.notice {
                        p.notice role="status" { (notice) }
                    }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn account_nav(account: &Account, section: Section) -> Markup {
    let base = account_base(&account.id);
    let items = [
        ("", "Overview", Section::Overview),
        ("/codes", "Codes", Section::Codes),
        ("/keywords", "Keywords", Section::Keywords),
        ("/messages", "Messages", Section::Messages),
        ("/lists", "Lists", Section::Lists),
        ("/sends", "Sends", Section::Sends),
        ("/definitions", "Definitions", Section::Definitions),
    ];
    html! {
        nav.account aria-label="Account" {
            span.account-name { "Account " strong { (account.name) } }
            @for (path, label, s) in items {
                (nav_link(&format!("{base}{path}"), label, section == s))
            }
        }
    }
}

/// `/console/accounts/{id}`.
pub(crate) fn account_base(account_id: &str) -> String {
    format!("{BASE}/accounts/{}", seg(account_id))
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// The API's messages about a refused operation.
pub(crate) fn errors(messages: &[String]) -> Markup {
    html! {
        @if !messages.is_empty() {
            div.errors role="alert" {
                p { "Not saved:" }
                ul { @for m in messages { li { (m) } } }
            }
        }
    }
}

/// An ID shown as code with a button that copies it (the button appears with JavaScript).
pub(crate) fn id_with_copy(id: &str) -> Markup {
    html! {
        span.id-copy {
            code.id { (id) }
            " "
            button.copy.secondary type="button" data-copy=(id) hidden { "Copy ID" }
        }
    }
}

/// A labelled one-line text input.
pub(crate) struct Field<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub kind: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn text(id: &'a str, name: &'a str, label: &'a str, value: &'a str) -> Field<'a> {
        Field {
            id,
            name,
            label,
            value,
            kind: "text",
            required: false,
            hint: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub fn render(&self) -> Markup {
        let hint_id = format!("{}-hint", self.id);
        html! {
            div.field {
                label for=(self.id) { (self.label) }
                input id=(self.id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    aria-describedby=[self.hint.map(|_| hint_id.as_str())];
                @if let Some(hint) = self.hint {
                    p.hint id=(hint_id) { (hint) }
                }
            }
        }
    }
}

/// A labelled textarea.
pub(crate) fn textarea(id: &str, name: &str, label: &str, value: &str, required: bool) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="4" required[required] { (value) }
        }
    }
}

/// A labelled select of `(value, text)` options.
pub(crate) fn select(
    id: &str,
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// A labelled checkbox.
pub(crate) fn checkbox(id: &str, name: &str, value: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.check {
            input id=(id) type="checkbox" name=(name) value=(value) checked[checked];
            label for=(id) { (label) }
        }
    }
}

/// A form that is one button (delete, cancel, activate), with its CSRF token.
pub(crate) fn button_form(
    action: &str,
    csrf: &str,
    label: &str,
    class: &str,
    confirm: Option<&str>,
    hidden: &[(&str, &str)],
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (csrf_field(csrf))
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            button class=(class) type="submit" { (label) }
        }
    }
}

/// Shortens a text for a table cell.
pub(crate) fn preview(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}
