//! Message text: `%%Name%%` substitution, GSM-7 vs UCS-2 detection and segment counting
//! (API.md §4 "Text").

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    /// `"GSM-7"` or `"UCS-2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
    /// Units that fit in a single, unsplit message: 160 septets or 70 UTF-16 units.
    pub fn single_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }
    /// Units per part of a concatenated message (room left by the UDH): 153 or 67.
    pub fn part_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }
    /// The units `c` takes in this encoding: septets (an escape pair for an extension
    /// character) or UTF-16 code units. `None` when GSM-7 cannot carry `c`.
    pub fn units_of(self, c: char) -> Option<usize> {
        match self {
            Encoding::Gsm7 => gsm7_code(c).map(Gsm7Code::septets),
            Encoding::Ucs2 => Some(c.len_utf16()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextInfo {
    pub encoding: Encoding,
    /// Septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// 160/153 (GSM-7) or 70/67 (UCS-2); a part never splits an escape or surrogate pair.
    /// An empty text is one segment.
    pub segments: u32,
}

/// GSM 03.38 default alphabet, indexed by septet value (0x1B, the escape, is never a character).
const GSM7_BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The escape septet that introduces an extension-table character.
pub const GSM7_ESCAPE: u8 = 0x1b;

/// GSM 03.38 extension table: character and septet after the escape.
const GSM7_EXTENSION: [(char, u8); 10] = [
    ('\u{c}', 0x0a),
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2f),
    ('[', 0x3c),
    ('~', 0x3d),
    (']', 0x3e),
    ('|', 0x40),
    ('€', 0x65),
];

/// The septets for `c` in GSM-7: one from the default alphabet, or the escape and one from the
/// extension table. `None` when `c` is in neither.
pub fn gsm7_code(c: char) -> Option<Gsm7Code> {
    if c == '\u{1b}' {
        return None;
    }
    if let Some(pos) = GSM7_BASIC.iter().position(|&b| b == c) {
        return u8::try_from(pos).ok().map(Gsm7Code::Basic);
    }
    GSM7_EXTENSION
        .iter()
        .find(|&&(e, _)| e == c)
        .map(|&(_, code)| Gsm7Code::Extension(code))
}

/// One character in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gsm7Code {
    /// A septet of the default alphabet.
    Basic(u8),
    /// A septet of the extension table (sent after [`GSM7_ESCAPE`]).
    Extension(u8),
}

impl Gsm7Code {
    /// Septets taken: 1, or 2 for an escape pair.
    pub fn septets(self) -> usize {
        match self {
            Gsm7Code::Basic(_) => 1,
            Gsm7Code::Extension(_) => 2,
        }
    }
}

/// The text as unpacked GSM-7 septets (one per octet, escape pairs included), or `None` when a
/// character is outside the default alphabet and its extension table.
pub fn gsm7_encode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match gsm7_code(c)? {
            Gsm7Code::Basic(s) => out.push(s),
            Gsm7Code::Extension(s) => {
                out.push(GSM7_ESCAPE);
                out.push(s);
            }
        }
    }
    Some(out)
}

/// Unpacked GSM-7 septets (one per octet, as SMPP carries them with `data_coding` 0) back to
/// text: an escape pair becomes its extension character; an unknown extension code or a
/// trailing escape becomes a space (GSM 03.38), octets above 0x7F use their low seven bits.
pub fn gsm7_decode(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut bytes = septets.iter().map(|b| b & 0x7f);
    while let Some(b) = bytes.next() {
        if b == GSM7_ESCAPE {
            let ext = bytes.next().and_then(|code| {
                GSM7_EXTENSION
                    .iter()
                    .find(|&&(_, c)| c == code)
                    .map(|&(ch, _)| ch)
            });
            out.push(ext.unwrap_or(' '));
        } else {
            out.push(GSM7_BASIC.get(usize::from(b)).copied().unwrap_or(' '));
        }
    }
    out
}

/// GSM-7 when every character is in the default alphabet or its extension table, else UCS-2.
pub fn encoding_of(text: &str) -> Encoding {
    if text.chars().all(|c| gsm7_code(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The units of every character of `text` in `encoding` (which must be able to carry it).
fn char_units(text: &str, encoding: Encoding) -> impl Iterator<Item = (char, usize)> + '_ {
    text.chars()
        .map(move |c| (c, encoding.units_of(c).unwrap_or(2)))
}

pub fn analyze(text: &str) -> TextInfo {
    let encoding = encoding_of(text);
    let units: usize = char_units(text, encoding).map(|(_, u)| u).sum();
    let segments = if units <= encoding.single_limit() {
        1
    } else {
        // Greedy packing: a character that does not fit whole opens the next part.
        let limit = encoding.part_limit();
        let mut parts = 1u32;
        let mut used = 0;
        for (_, u) in char_units(text, encoding) {
            if used + u > limit {
                parts = parts.saturating_add(1);
                used = 0;
            }
            used += u;
        }
        parts
    };
    TextInfo {
        encoding,
        units,
        segments,
    }
}

/// The text cut into the parts [`analyze`] counts: the whole text when it fits one message
/// (an empty text is one empty part), else parts of at most 153 septets or 67 UTF-16 units,
/// never splitting an escape pair or a surrogate pair. The parts concatenate to the text.
pub fn split_parts(text: &str) -> Vec<String> {
    let encoding = encoding_of(text);
    let units: usize = char_units(text, encoding).map(|(_, u)| u).sum();
    if units <= encoding.single_limit() {
        return vec![text.to_owned()];
    }
    let limit = encoding.part_limit();
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for (c, u) in char_units(text, encoding) {
        if used + u > limit {
            parts.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(c);
        used += u;
    }
    parts.push(current);
    parts
}

/// Replaces `%%Name%%` with `lookup(name)` (the caller matches names case-insensitively); an
/// unknown name becomes empty. Text without a closing `%%` stays as it is.
///
/// Markers pair up left to right: each `%%` opens a placeholder that the next `%%` closes.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("%%") {
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("%%") else {
            break;
        };
        out.push_str(&rest[..open]);
        if let Some(value) = lookup(&after_open[..close]) {
            out.push_str(&value);
        }
        rest = &after_open[close + 2..];
    }
    out.push_str(rest);
    out
}

/// [`substitute`], refusing a result of more than `max_chars` characters: `None` as soon as
/// the text being built passes the limit (API.md §1: such a recipient is not sent, 1501), so
/// placeholders that expand never build more than about `max_chars` characters.
pub fn substitute_within(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    max_chars: usize,
) -> Option<String> {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut chars = 0usize;
    let mut push = |out: &mut String, piece: &str| -> bool {
        chars = chars.saturating_add(piece.chars().count());
        if chars > max_chars {
            return false;
        }
        out.push_str(piece);
        true
    };
    let mut rest = text;
    while let Some(open) = rest.find("%%") {
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("%%") else {
            break;
        };
        if !push(&mut out, &rest[..open]) {
            return None;
        }
        if let Some(value) = lookup(&after_open[..close]) {
            if !push(&mut out, &value) {
                return None;
            }
        }
        rest = &after_open[close + 2..];
    }
    push(&mut out, rest).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segments(text: &str) -> u32 {
        analyze(text).segments
    }

    #[test]
    fn gsm7_decode_inverts_encode() {
        let text = "Hello @£$ {€} [~] \\ ^|\nÆ";
        let septets = gsm7_encode(text).expect("gsm");
        assert_eq!(gsm7_decode(&septets), text);
        assert_eq!(gsm7_decode(&[0x1b]), " ");
        assert_eq!(gsm7_decode(&[0x1b, 0x01, 0x41]), " A");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn gsm7_decode_takes_any_octets(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = gsm7_decode(&bytes);
            prop_assert!(text.chars().count() <= bytes.len());
        }
    }

    #[test]
    fn empty_text_is_one_gsm_segment() {
        assert_eq!(
            analyze(""),
            TextInfo {
                encoding: Encoding::Gsm7,
                units: 0,
                segments: 1
            }
        );
        assert_eq!(split_parts(""), [""]);
    }

    #[test]
    fn gsm7_limits() {
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        let info = analyze(&"€".repeat(80));
        assert_eq!(
            (info.encoding, info.units, info.segments),
            (Encoding::Gsm7, 160, 1)
        );
        assert_eq!(segments(&"€".repeat(81)), 2);
    }

    #[test]
    fn escape_pair_is_never_split() {
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        let info = analyze(&text);
        assert_eq!(
            (info.encoding, info.units, info.segments),
            (Encoding::Gsm7, 306, 3)
        );
        let parts = split_parts(&text);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "a".repeat(152));
        assert_eq!(parts[1], format!("€{}", "a".repeat(151)));
        assert_eq!(parts[2], "a");
    }

    #[test]
    fn extension_characters_count_two() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{c}'] {
            let info = analyze(&c.to_string());
            assert_eq!((info.encoding, info.units), (Encoding::Gsm7, 2), "{c:?}");
        }
        assert_eq!(gsm7_encode("a€"), Some(vec![0x61, 0x1b, 0x65]));
        assert_eq!(gsm7_encode("@£\n"), Some(vec![0, 1, 10]));
    }

    #[test]
    fn default_alphabet_is_gsm7() {
        let all = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
        let info = analyze(all);
        assert_eq!(info.encoding, Encoding::Gsm7);
        assert_eq!(info.units, 127);
        assert_eq!(gsm7_encode(all).unwrap().len(), 127);
    }

    #[test]
    fn other_characters_are_ucs2() {
        for text in ["ç", "`", "\t", "\u{1b}", "á", "中", "😀", "$"] {
            let expected = if text == "$" {
                Encoding::Gsm7
            } else {
                Encoding::Ucs2
            };
            assert_eq!(analyze(text).encoding, expected, "{text:?}");
        }
        let info = analyze("😀");
        assert_eq!((info.units, info.segments), (2, 1));
        assert_eq!(analyze(&"é".repeat(200)).encoding, Encoding::Gsm7);
        assert_eq!(gsm7_encode("á"), None);
    }

    #[test]
    fn ucs2_limits_and_surrogates() {
        assert_eq!(segments(&"中".repeat(70)), 1);
        assert_eq!(segments(&"中".repeat(71)), 2);
        assert_eq!(segments(&"中".repeat(134)), 2);
        assert_eq!(segments(&"中".repeat(135)), 3);
        assert_eq!(segments(&"😀".repeat(35)), 1);
        assert_eq!(segments(&"😀".repeat(36)), 2);
        // 66 units then an emoji: the pair moves whole to the next part.
        let text = format!("{}😀{}", "中".repeat(66), "中".repeat(66));
        let parts = split_parts(&text);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "中".repeat(66));
        assert_eq!(parts[1].encode_utf16().count(), 67);
        assert_eq!(segments(&text), 3);
    }

    #[test]
    fn substitutes_placeholders() {
        let lookup = |name: &str| match name.to_ascii_lowercase().as_str() {
            "first" => Some("Ann".to_owned()),
            "city" => Some("Oslo".to_owned()),
            _ => None,
        };
        assert_eq!(
            substitute("Hi %%First%% from %%CITY%%!", &lookup),
            "Hi Ann from Oslo!"
        );
        assert_eq!(substitute("Hi %%Unknown%%!", &lookup), "Hi !");
        assert_eq!(substitute("50%% off", &lookup), "50%% off");
        assert_eq!(substitute("%%first%%%%city%%", &lookup), "AnnOslo");
        assert_eq!(substitute("%%first%% and %%", &lookup), "Ann and %%");
        assert_eq!(substitute("no markers", &lookup), "no markers");
        assert_eq!(substitute("", &lookup), "");
        assert_eq!(substitute("%%%%", &lookup), "");
        assert_eq!(substitute("é%%first%%é", &lookup), "éAnné");
    }

    #[test]
    fn bounded_substitution_stops_at_the_limit() {
        let lookup = |_: &str| Some("😀".repeat(1600));
        // 320 placeholders would build 512,000 characters: refused without building them.
        assert_eq!(substitute_within(&"%%a%%".repeat(320), &lookup, 1600), None);
        assert_eq!(
            substitute_within("%%a%%", &lookup, 1600),
            Some("😀".repeat(1600))
        );
        assert_eq!(substitute_within("x%%a%%", &lookup, 1600), None);
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z €\\[\\]{}^~|]{0,400}",
            "[a-z€中😀]{0,200}",
            "[a😀]{0,150}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn segment_invariants(text in arb_text()) {
            let info = analyze(&text);
            let parts = split_parts(&text);
            prop_assert_eq!(parts.len() as u32, info.segments);
            prop_assert_eq!(parts.concat(), text.clone());
            let encoding = info.encoding;
            let units_of = |s: &str| -> usize {
                s.chars().map(|c| encoding.units_of(c).unwrap()).sum()
            };
            prop_assert_eq!(units_of(&text), info.units);
            match encoding {
                Encoding::Gsm7 => {
                    prop_assert!(text.chars().all(|c| gsm7_code(c).is_some()));
                    prop_assert_eq!(gsm7_encode(&text).map(|v| v.len()), Some(info.units));
                }
                Encoding::Ucs2 => {
                    prop_assert!(text.chars().any(|c| gsm7_code(c).is_none()));
                    prop_assert_eq!(text.encode_utf16().count(), info.units);
                }
            }
            if info.units <= encoding.single_limit() {
                prop_assert_eq!(info.segments, 1);
            } else {
                let limit = encoding.part_limit();
                prop_assert!(info.segments >= 2);
                prop_assert!(info.segments as usize >= info.units.div_ceil(limit));
                // Each unit loses at most one slot per part boundary (a pair that moved).
                prop_assert!(info.segments as usize <= info.units.div_ceil(limit - 1));
                for (i, part) in parts.iter().enumerate() {
                    prop_assert!(!part.is_empty());
                    prop_assert!(units_of(part) <= limit);
                    // Greedy: the next part's first character did not fit.
                    if let Some(next) = parts.get(i + 1).and_then(|p| p.chars().next()) {
                        prop_assert!(units_of(part) + encoding.units_of(next).unwrap() > limit);
                    }
                }
            }
        }

        #[test]
        fn substitute_without_markers_is_identity(text in "[^%]{0,50}") {
            prop_assert_eq!(substitute(&text, &|_| Some("x".into())), text);
        }

        #[test]
        fn substitute_never_panics(text in "[a%é]{0,40}") {
            let out = substitute(&text, &|name| Some(format!("<{name}>")));
            prop_assert!(out.matches('%').count() <= text.matches('%').count());
        }

        /// The bounded substitution is the plain one when the result fits, and refuses exactly
        /// the results that do not.
        #[test]
        fn substitute_within_refuses_exactly_the_results_over_the_limit(
            text in "[a%é😀N]{0,40}",
            value in "[xé😀]{0,12}",
            max in 0usize..60,
        ) {
            let lookup = |_: &str| Some(value.clone());
            let full = substitute(&text, &lookup);
            let bounded = substitute_within(&text, &lookup, max);
            if full.chars().count() <= max {
                prop_assert_eq!(bounded, Some(full));
            } else {
                prop_assert_eq!(bounded, None);
            }
        }
    }
}
