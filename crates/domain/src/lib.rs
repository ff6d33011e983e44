//! The contract's value types and rules: IDs, mobile numbers, times and blackout windows, message
//! text encoding, request bodies, the validation of API.md §4 and the size limits of §1. Pure: no
//! I/O, no HTTP, no SQL. Every type is built only through `parse`, so a value that exists is valid.

pub mod clock;
pub mod codes;
pub mod fields;
pub mod ids;
pub mod limits;
pub mod mobile;
pub mod send_contact;
pub mod send_list;
pub mod sms_messages;
pub mod states;
pub mod text;
pub mod time;
pub mod transactional;

pub use fields::{without_nul, BodyError, FieldReader, Fields, Json};
pub use ids::{mint_id, mint_key, mint_token, EncodedId, TokenId};
pub use mobile::{MobileNumber, MobileNumberError};
pub use send_contact::{
    Addressee, ContactMessageFacts, ExplicitNumbers, QueueMoRequest, SendContactRequest,
    ValidQueueMo, ValidSendContact,
};
pub use send_list::{
    is_blank, BlackoutInput, ExclusionChoice, MessageFacts, SendListOptions, SendListRequest,
    TargetChoice, ValidSendList,
};
pub use sms_messages::{Day, OptInRules, OptInType};
pub use states::{RecipientState, SendState};
pub use text::{analyze, split_parts, substitute, substitute_within, Encoding, TextInfo};
pub use time::{format_timestamp, BlackoutWindow, ClockTime, ContentUrl, SendTime, UtcOffset};
