//! `GET /openapi.json`: an OpenAPI 3.1 description of every `/v2/token`, `/sms/v1` and
//! `/admin/v1` operation (API.md §1–§7), built from the route table (`routes::ROUTES`) so that it
//! cannot drift from it: paths, methods, access and scopes come from the table, and each method
//! of an entry names the function that describes its operation (an entry does not compile
//! without one). Schemas describe what the handlers really send.

use std::sync::OnceLock;

use axum::http::Method;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::responses::{
    AdminNotAuthorized, Errors, FieldErrors, Health, InsufficientPrivileges, InternalError,
    MethodNotAllowed, NotAuthorized, NotFound, NotReady, OAuthErrorBody, RateLimited, Ready,
    RequestTimeout, TooLarge, TxErrorBody,
};
use crate::routing::{self, Access, Endpoint, Handler, Route};

/// Where the document is served.
pub const PATH: &str = "/openapi.json";

/// Paths the document describes that are not routes of the API table (API.md §7 operational
/// endpoints, and the document itself).
pub const OPERATIONAL_PATHS: [&str; 3] = ["/healthz", "/readyz", PATH];

/// The document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

/// The document as served (serialized once).
pub fn document_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| serde_json::to_vec(document()).unwrap_or_else(|_| b"{}".to_vec()))
}

/// What one operation takes and gives, besides what follows from its route (path parameters,
/// security, and the errors every route of its kind can give).
pub struct Operation {
    operation_id: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    /// Query and header parameters.
    parameters: Vec<Value>,
    /// The request body's content (media type → media object); `None` when none is read.
    body: Option<Value>,
    /// Status, description and body of the success response.
    success: (u16, &'static str, Success),
    /// The handler's own errors: 400 (validation), 404 (on a route without path parameters,
    /// whose 404 does not follow from its path) and 409 (duplicates, conflicts).
    errors: &'static [u16],
    /// Those errors come in MobileConnect's `fieldErrors` shape (`message/optin`).
    field_errors: bool,
    /// Those errors, and the 404 of an unknown key, come in the transactional error body
    /// (API.md §9).
    tx_errors: bool,
    /// Headers of the success response.
    success_headers: Map<String, Value>,
    /// Operations the success response leads to (OpenAPI links), by operationId.
    links: Map<String, Value>,
}

impl Operation {
    pub(crate) fn new(
        operation_id: &'static str,
        summary: &'static str,
        success: (u16, &'static str, Success),
    ) -> Operation {
        Operation {
            operation_id,
            summary,
            description: None,
            parameters: Vec::new(),
            body: None,
            success,
            errors: &[],
            field_errors: false,
            tx_errors: false,
            success_headers: Map::new(),
            links: Map::new(),
        }
    }
    pub(crate) fn describe(mut self, description: &'static str) -> Operation {
        self.description = Some(description);
        self
    }
    pub(crate) fn param(mut self, parameter: Value) -> Operation {
        self.parameters.push(parameter);
        self
    }
    /// A JSON body with the given schema.
    pub(crate) fn json_body(mut self, schema: Value) -> Operation {
        self.body = Some(json!({ "application/json": { "schema": schema } }));
        self
    }
    pub(crate) fn content(mut self, content: Value) -> Operation {
        self.body = Some(content);
        self
    }
    pub(crate) fn errors(mut self, errors: &'static [u16]) -> Operation {
        self.errors = errors;
        self
    }
    /// The handler's own errors in the `fieldErrors` shape.
    pub(crate) fn field_errors(mut self) -> Operation {
        self.field_errors = true;
        self
    }
    /// The handler's own errors in the transactional body (API.md §9).
    pub(crate) fn transactional(mut self) -> Operation {
        self.tx_errors = true;
        self
    }
    /// A header the success response always carries.
    pub(crate) fn success_header(
        mut self,
        name: &str,
        description: &str,
        schema: Value,
    ) -> Operation {
        self.success_headers.insert(
            name.to_string(),
            json!({ "required": true, "description": description, "schema": schema }),
        );
        self
    }
    /// The success response leads to `operation_id`, whose parameters are taken from this
    /// request (`$request.path.id`) or response (`$response.body#/tokenId`).
    pub(crate) fn link(mut self, operation_id: &str, parameters: Value) -> Operation {
        self.links.insert(
            operation_id.to_string(),
            json!({ "operationId": operation_id, "parameters": parameters }),
        );
        self
    }
    /// Links to the operations that take `{acct}` and a `{name}` minted in the response's `id`.
    pub(crate) fn links_by_id(self, name: &str, operation_ids: &[&str]) -> Operation {
        operation_ids.iter().fold(self, |op, target| {
            op.link(
                target,
                json!({ "acct": "$request.path.acct", name: "$response.body#/id" }),
            )
        })
    }
}

/// Link parameters of a send's status: the message in the path and the minted token.
pub(crate) fn send_status_link() -> Value {
    json!({ "id": "$request.path.id", "tokenId": "$response.body#/tokenId" })
}

/// Link parameters of a list job's status: the list in the path and the minted token.
pub(crate) fn job_status_link() -> Value {
    json!({ "listId": "$request.path.listId", "tokenId": "$response.body#/tokenId" })
}

/// Link parameters naming only the minted token.
pub(crate) fn token_link() -> Value {
    json!({ "tokenId": "$response.body#/tokenId" })
}

pub(crate) fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// The body of a success response: a typed response (`crate::responses`), whose schema is
/// generated.
pub(crate) struct Success(fn(&mut SchemaGenerator) -> Schema);

impl Success {
    fn schema(&self, generator: &mut SchemaGenerator) -> Value {
        (self.0)(generator).to_value()
    }
}

/// A typed success response: `T`'s generated schema.
pub(crate) fn typed<T: JsonSchema>(
    status: u16,
    description: &'static str,
) -> (u16, &'static str, Success) {
    (
        status,
        description,
        Success(SchemaGenerator::subschema_for::<T>),
    )
}

pub(crate) fn query(name: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({
        "name": name, "in": "query", "required": required, "description": description,
        "schema": schema,
    })
}

pub(crate) fn idempotency_key() -> Value {
    json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Makes the call safe to retry (API.md §4): the same key from the same API \
            client acting for the same account within 24 hours answers the original 202 and \
            tokenId without creating another send; with a different body, 409. 1–255 printable \
            ASCII characters (else 400).",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
    })
}

pub(crate) fn paging_params(op: Operation) -> Operation {
    op.param(query(
        "$page",
        "Page of `tracking`, from 1 (default 1).",
        json!({ "type": "integer", "minimum": 1 }),
        false,
    ))
    .param(query(
        "$pageSize",
        "Entries per page (default 1000; above 10000 is taken as 10000).",
        json!({ "type": "integer", "minimum": 1 }),
        false,
    ))
}

pub(crate) const SEND_STATES: [&str; 6] =
    ["New", "Queuing", "Started", "Finished", "Error", "Canceled"];

/// A path parameter of the contract's templates.
fn path_parameter(name: &str) -> Value {
    let id = json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" });
    let (description, schema) = match name {
        "id" => ("A message ID (API.md §3).", id),
        "tokenId" => ("A send or job token (API.md §3).", id),
        "listId" | "list" => ("A list ID (API.md §3).", id),
        "keywordId" => ("A keyword ID (API.md §3).", id),
        "acct" => ("An account ID (API.md §3).", id),
        "mobileNumber" => (
            "A mobile number: 8–15 digits, country code first, a leading + allowed.",
            json!({ "type": "string", "pattern": "^\\+?[0-9]{8,15}$" }),
        ),
        "code" => (
            "The code's ID or its code string (`88976`).",
            json!({ "type": "string", "minLength": 1 }),
        ),
        "clientId" => (
            "An API client's ID.",
            json!({ "type": "string", "minLength": 1 }),
        ),
        _ => (
            "A path parameter.",
            json!({ "type": "string", "minLength": 1 }),
        ),
    };
    json!({
        "name": name, "in": "path", "required": true, "description": description,
        "schema": schema,
    })
}

/// True when a request with the last path parameter empty names the parent path, which the
/// table routes without this method: the answer is then 405 (API.md §1).
fn empty_last_parameter_is_405(route: &Route, method: &Method) -> bool {
    routing::routes()
        .any(|parent| route.is_parameter_below(parent) && parent.endpoint(method).is_none())
}

fn responses(
    route: &Route,
    endpoint: &Endpoint,
    op: &Operation,
    generator: &mut SchemaGenerator,
) -> Value {
    let method = &endpoint.method;
    let mut out = Map::new();
    let (status, description, body) = &op.success;
    let body = body.schema(generator);
    let mut success = json!({
        "description": description,
        "content": { "application/json": { "schema": body } },
    });
    if !op.success_headers.is_empty() {
        success["headers"] = Value::Object(op.success_headers.clone());
    }
    if !op.links.is_empty() {
        success["links"] = Value::Object(op.links.clone());
    }
    out.insert(status.to_string(), success);
    for status in op.errors {
        let name = match (endpoint.access(), status) {
            (_, 400) if op.tx_errors => "TransactionalBadRequest",
            (_, 409) if op.tx_errors => "TransactionalConflict",
            (_, 400) if op.field_errors => "FieldErrorsBadRequest",
            (_, 409) if op.field_errors => "FieldErrorsConflict",
            (Access::Public, 400) => "TokenBadRequest",
            (_, 400) => "BadRequest",
            (_, 404) => "NotFound",
            (_, 409) => "Conflict",
            _ => continue,
        };
        out.insert(status.to_string(), response(name));
    }
    match endpoint.access() {
        Access::Public => {
            out.insert("401".into(), response("TokenUnauthorized"));
            out.insert("429".into(), response("RateLimited"));
        }
        Access::Sms => {
            out.insert("401".into(), response("SmsUnauthorized"));
            out.insert("403".into(), response("Forbidden"));
            out.insert("429".into(), response("RateLimited"));
        }
        Access::Admin => {
            out.insert("401".into(), response("AdminUnauthorized"));
            out.insert("429".into(), response("AdminThrottled"));
        }
    }
    if route.parameters().next().is_some() {
        let name = if op.tx_errors {
            "TransactionalNotFound"
        } else {
            "NotFound"
        };
        out.insert("404".into(), response(name));
    }
    if empty_last_parameter_is_405(route, method) {
        out.insert("405".into(), response("MethodNotAllowed"));
    }
    if op.body.is_some() {
        out.insert("408".into(), response("RequestTimeout"));
        out.insert("413".into(), response("TooLarge"));
    }
    out.insert("500".into(), response("InternalError"));
    Value::Object(out)
}

fn security(endpoint: &Endpoint) -> Value {
    match endpoint.handler {
        Handler::Public(_) => json!([]),
        Handler::Sms(scope, _) => json!([{ "accessToken": [scope] }]),
        Handler::Admin(_) => json!([{ "adminToken": [] }]),
    }
}

fn tag(access: Access) -> &'static str {
    match access {
        Access::Public => "auth",
        Access::Sms => "sms",
        Access::Admin => "admin",
    }
}

fn operation_object(route: &Route, endpoint: &Endpoint, generator: &mut SchemaGenerator) -> Value {
    let op = (endpoint.operation)();
    let mut params: Vec<Value> = route.parameters().map(path_parameter).collect();
    params.extend(op.parameters.iter().cloned());
    let mut obj = json!({
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [tag(endpoint.access())],
        "security": security(endpoint),
        "responses": responses(route, endpoint, &op, generator),
    });
    if let Some(d) = op.description {
        obj["description"] = json!(d);
    }
    if let Some(scope) = endpoint.handler.scope() {
        let d = op.description.unwrap_or("");
        obj["description"] = json!(format!("Scope `{scope}`. {d}").trim_end().to_string());
    }
    if !params.is_empty() {
        obj["parameters"] = Value::Array(params);
    }
    if let Some(content) = op.body {
        obj["requestBody"] = json!({
            "required": false,
            "description": "JSON bodies: field names are case-insensitive, unknown fields are \
                ignored, `null` means absent, an empty body is `{}` (API.md §1).",
            "content": content,
        });
    }
    obj
}

fn method_key(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

fn operational_paths(paths: &mut Map<String, Value>, g: &mut SchemaGenerator) {
    paths.insert(
        "/healthz".into(),
        json!({ "get": {
            "operationId": "healthz", "summary": "The process is up", "tags": ["operations"],
            "security": [],
            "responses": { "200": { "description": "Up.", "content": { "application/json": {
                "schema": g.subschema_for::<Health>() } } } },
        } }),
    );
    paths.insert(
        "/readyz".into(),
        json!({ "get": {
            "operationId": "readyz", "summary": "The database is reachable and migrated",
            "tags": ["operations"], "security": [],
            "responses": {
                "200": { "description": "Ready.", "content": { "application/json": {
                    "schema": g.subschema_for::<Ready>() } } },
                "503": { "description": "Not ready.", "content": { "application/json": {
                    "schema": g.subschema_for::<NotReady>() } } },
            },
        } }),
    );
    paths.insert(
        PATH.into(),
        json!({ "get": {
            "operationId": "openapi", "summary": "This document", "tags": ["operations"],
            "security": [],
            "responses": { "200": { "description": "The OpenAPI 3.1 document.", "content": {
                "application/json": { "schema": { "type": "object",
                    "required": ["openapi", "info", "paths"] } } } } },
        } }),
    );
}

/// Builds the document from the route table.
pub fn build() -> Value {
    let mut generator = schema_generator();
    let mut paths = Map::new();
    for route in routing::routes() {
        let item: Map<String, Value> = route
            .endpoints
            .iter()
            .map(|e| {
                (
                    method_key(&e.method),
                    operation_object(route, e, &mut generator),
                )
            })
            .collect();
        paths.insert(route.path.to_string(), Value::Object(item));
    }
    operational_paths(&mut paths, &mut generator);
    let responses = error_responses(&mut generator);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tidings",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INFO_DESCRIPTION,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "/" }],
        "tags": [
            { "name": "auth", "description": "OAuth2 token endpoint (API.md §2)." },
            { "name": "sms", "description": "The MobileConnect API (API.md §4–§6)." },
            { "name": "admin", "description": "The admin API (API.md §7)." },
            { "name": "operations", "description": "Health and this document." },
        ],
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(),
            "schemas": schemas(generator.take_definitions(true)),
            "responses": responses,
        },
    })
}

const INFO_DESCRIPTION: &str = "Tidings' API: `/v2/token` and `/sms/v1` are wire-compatible \
with the MobileConnect REST API; `/admin/v1` is Tidings' own. Every response is JSON with \
`Content-Type: application/json; charset=utf-8`. Paths, query parameter names and request field \
names match case-insensitively; IDs in paths resolve case-insensitively. When several failures \
apply the answer is the first of 404, 405, 401, 403, 413, 400. Any method a path does not list \
answers 405 `{\"errors\": [\"Method not allowed.\"]}`; an unknown path answers 404 \
`{\"errors\": [\"Not found.\"]}`. Timestamps are `yyyy-MM-ddTHH:mm:ss.fff` in CST (UTC−06:00), \
or UTC with a `Z` suffix when `api.timestamps = \"utc\"`.";

fn security_schemes() -> Value {
    json!({
        "accessToken": {
            "type": "http", "scheme": "bearer",
            "description": "An access token from POST /v2/token (API.md §2). The scope each \
                operation needs is listed in its security requirement.",
        },
        "adminToken": {
            "type": "http", "scheme": "bearer",
            "description": "The admin token: TIDINGS_ADMIN_TOKEN, config `admin.token`, or the \
                one generated into the data directory on first start (API.md §7).",
        },
    })
}

/// An open request object: unknown fields are ignored (API.md §1).
fn request(required: &[&str], properties: Value) -> Value {
    let mut obj = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        obj["required"] = json!(required);
    }
    obj
}

/// A request field that may also be `null` (absent).
fn nullable(type_name: &str, description: &str) -> Value {
    json!({ "type": [type_name, "null"], "description": description })
}

/// A string of at most `max` characters (API.md §1 text limits), or null.
fn limited(max: usize, description: &str) -> Value {
    json!({ "type": ["string", "null"], "maxLength": max, "description": description })
}

/// A message text: at most 1,600 characters (API.md §1).
fn text_field(description: &str) -> Value {
    limited(domain::limits::MAX_TEXT_CHARS, description)
}

fn nullable_strings(description: &str) -> Value {
    json!({ "type": ["array", "null"], "items": { "type": "string" }, "description": description })
}

const BOOLEAN_NOTE: &str = "JSON true/false; the strings \"true\"/\"false\" in any letter case \
are accepted too.";

fn flag(description: &str) -> Value {
    json!({
        "type": ["boolean", "null"],
        "description": format!("{description} {BOOLEAN_NOTE}"),
    })
}

/// Generates the schemas of typed responses into `#/components/schemas`, as JSON Schema 2020-12
/// (OpenAPI 3.1's dialect) of what is serialized, closed (see `close_object`).
fn schema_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .with_transform(RecursiveTransform(close_object))
        .into_generator()
}

/// A response object lists every property it can carry: any other fails validation.
fn close_object(schema: &mut Schema) {
    if schema.get("properties").is_some() && schema.get("additionalProperties").is_none() {
        schema.insert("additionalProperties".into(), Value::Bool(false));
    }
}

/// The components' schemas: the generated ones (`generated`: every response body) and those of
/// request bodies, written here by hand.
fn schemas(generated: Map<String, Value>) -> Value {
    let mut s = generated;
    // A name is either generated or written here, never both: a generated schema wins (and
    // `hand_written_schemas_do_not_shadow_generated_ones` fails).
    let mut put = |name: &str, value: Value| {
        s.entry(name.to_string()).or_insert(value);
    };

    // /v2/token
    put(
        "TokenRequest",
        request(
            &["grant_type", "client_id", "client_secret"],
            json!({
                "grant_type": { "const": "client_credentials",
                    "description": "Must be `client_credentials` (checked first)." },
                "client_id": { "type": ["string", "number"] },
                "client_secret": { "type": "string" },
                "account_id": { "type": ["string", "number", "null"],
                    "description": "The account the token acts for; one the client is granted. \
                        Default: the client's own." },
                "scope": nullable("string", "Space-separated; the token gets the intersection with \
                    the client's scopes. Omitted: all granted; \"\": none."),
            }),
        ),
    );

    // Sends.
    put(
        "BlackoutWindow",
        json!({ "type": ["object", "null"], "properties": {
            "UtcOffset": nullable("string", "`±HHMM`, `±HH:MM` or whole hours (`-5`, `+10`); \
                −12:00…+14:00."),
            "WindowStart": nullable("string", "`HHMM` or `H:MM`/`HH:MM`, local to UtcOffset."),
            "WindowEnd": nullable("string", "`HHMM` or `H:MM`/`HH:MM`; earlier than WindowStart \
                crosses midnight."),
        } }),
    );
    put(
        "SendListRequest",
        request(
            &[],
            json!({
                "TargetListIds": nullable_strings("Lists whose contacts receive the message (needs \
                    OverrideTemplateTargetLists true)."),
                "OverrideTemplateTargetLists": flag("Use TargetListIds instead of the message's \
                    default target lists."),
                "ExclusionListIds": nullable_strings("Lists whose contacts are excluded (needs \
                    OverrideTemplateExclusionLists true)."),
                "OverrideTemplateExclusionLists": flag("Use ExclusionListIds instead of the \
                    message's default exclusion lists."),
                "IgnoreExclusionLists": flag("Exclude nobody."),
                "OverrideMessageText": flag("Send MessageText instead of the stored text."),
                "MessageText": text_field("The override text."),
                "blackoutWindow": schema("BlackoutWindow"),
                "sendTime": nullable("string", "`yyyy-MM-dd HH:mm` (also with `T`, with `:ss`), \
                    UTC; absent or past = now."),
                "allowDuplication": flag("One text per list membership instead of one per number."),
                "ContentURL": nullable("string", "http(s) URL of media: the send becomes MMS."),
            }),
        ),
    );
    put(
        "Subscriber",
        request(
            &[],
            json!({
                "MobileNumber": nullable("string", "8–15 digits, a leading + allowed."),
                "SubscriberKey": limited(domain::limits::MAX_KEY_CHARS, ""),
                "Attributes": { "type": ["object", "null"],
                    "description": "Values for `%%Name%%` placeholders: names of at most 255 \
                        characters, values of at most 1600." },
            }),
        ),
    );
    put(
        "SendContactRequest",
        request(
            &[],
            json!({
                "mobileNumbers": { "type": ["array", "null"], "items": { "type": "string" }, "maxItems": 250 },
                "Subscribers": { "type": ["array", "null"], "items": schema("Subscriber"), "maxItems": 250 },
                "Subscribe": flag("Subscribe numbers that have no subscription to `keyword`."),
                "Resubscribe": flag("Re-subscribe numbers that opted out of `keyword`."),
                "keyword": nullable("string", "A keyword on the message's code."),
                "Override": flag("Send messageText instead of the stored text."),
                "messageText": text_field("The override text."),
                "blackoutWindow": schema("BlackoutWindow"),
                "SendTime": nullable("string", "As sendTime of messageList send."),
                "ContentURL": nullable("string", "http(s) URL of media."),
            }),
        ),
    );
    put(
        "QueueMoRequest",
        request(
            &[],
            json!({
                "mobileNumbers": { "type": ["array", "null"], "items": { "type": "string" }, "maxItems": 250 },
                "subscribers": { "type": ["array", "null"], "maxItems": 250, "items": request(&[], json!({
                    "mobilenumber": nullable("string", ""),
                    "subscriberkey": limited(domain::limits::MAX_KEY_CHARS, ""),
                })) },
                "shortCode": nullable("string", "A code of the account."),
                "messageText": text_field("The text the numbers send."),
            }),
        ),
    );
    put(
        "KeywordRequest",
        request(
            &[],
            json!({
                "ShortCode": nullable("string", "A short code of the account (or LongCode)."),
                "LongCode": nullable("string", "A long code of the account (or ShortCode)."),
                "CountryCode": nullable("string", "When given, the code's country."),
                "Keyword": nullable("string", "One word, not reserved (STOP, HELP, ...)."),
            }),
        ),
    );
    put(
        "ImportDefinition",
        request(
            &[],
            json!({
                "ImportType": nullable("string", "`FILE` (the default); `DATA_EXTENSION` is refused."),
                "FileName": nullable("string", "A plain file name of a regular file in the account's \
                    folder `<data dir>/imports/<accountId>/`."),
                "ImportMappingType": { "type": ["string", "null"],
                    "enum": ["ManualMap", "MapManual", "InferFromColumnHeadings", "MapByOrdinal", null],
                    "description": "Matched ignoring case. ManualMap maps by header (FieldMaps' \
                        Source); InferFromColumnHeadings maps columns named like a destination and \
                        makes the others attributes; MapByOrdinal maps by 0-based position." },
                "FieldMaps": { "type": ["array", "null"], "items": schema("FieldMap"),
                    "description": "Destinations `_MobileNumber`, `_CountryCode`, `_SubscriberKey`, \
                        `_FirstName`, `_LastName` (the attributes FirstName and LastName) or an \
                        attribute name." },
                "IsFirstRowHeader": flag("MapByOrdinal: the first row names the columns (the \
                    other types always read it as headers)."),
                "DataExtensionName": nullable("string", "Not used."),
            }),
        ),
    );
    put(
        "ImportSendRequest",
        request(
            &[],
            json!({
                "MessageId": nullable("string", "The message to send (Active)."),
                "Keyword": nullable("string", "A keyword on the message's code: the imported \
                    numbers are subscribed to it."),
                "NotificationEmail": nullable("string", "Accepted and not used."),
                "Override": flag("Send OverrideText instead of the message's text."),
                "OverrideText": text_field("The override text."),
                "IsDuplicationAllowed": flag("A number in several rows of the file gets one text per row."),
                "IsVisible": flag("The list the call creates is listed by the admin API and the \
                    console."),
                "ImportDefinition": { "type": ["array", "null"], "items": schema("ImportDefinition"),
                    "description": "Exactly one entry." },
            }),
        ),
    );
    let definition_fields = |create: bool| {
        json!({
            "name": nullable("string", "Unique in the account; 1 to 128 characters."),
            "description": nullable("string", "At most 1,000 characters."),
            "status": { "type": ["string", "null"],
                "description": "active or inactive, any case (default Active)." },
            "content": { "type": ["object", "null"], "properties": {
                "message": text_field("The text; `%%Name%%` strings are filled from the send's \
                    attributes.") },
                "required": if create { json!(["message"]) } else { json!([]) } },
            "subscriptions": { "type": ["object", "null"], "properties": {
                "shortCode": nullable("string", "A code of the account."),
                "countryCode": nullable("string", "The code's country."),
                "keyword": nullable("string", "A keyword on the code."),
                "autoAddSubscriber": flag("Subscribe a number with no subscription (default true)."),
                "updateSubscriber": flag("Update the contact's data (default true)."),
            },
                "required": if create { json!(["shortCode", "keyword"]) } else { json!([]) } },
        })
    };
    let mut create_fields = definition_fields(true);
    create_fields["definitionKey"] = nullable(
        "string",
        "1 to 64 of [A-Za-z0-9_-]; unique in the account ignoring case.",
    );
    put(
        "DefinitionRequest",
        request(
            &["definitionKey", "name", "content", "subscriptions"],
            create_fields,
        ),
    );
    put(
        "DefinitionPatchRequest",
        request(&[], definition_fields(false)),
    );
    let recipient = json!({ "type": "object", "properties": {
        "to": { "type": ["string", "integer", "null"], "description": "A mobile number (§1's rule)." },
        "contactKey": { "type": ["string", "integer", "null"], "description": "The subscriber key." },
        "messageKey": nullable("string", "1 to 100 of [A-Za-z0-9._~-], unique in the account for \
            72 hours; minted when absent (the many-recipient route)."),
        "attributes": { "type": ["object", "null"], "description": "`%%Name%%` values; they win \
            over the request's." },
    }});
    put(
        "TransactionalSendRequest",
        request(
            &["definitionKey"],
            json!({
                "definitionKey": nullable("string", "An Active or Inactive definition of the account."),
                "recipient": recipient.clone(),
                "recipients": { "type": ["array", "null"], "items": recipient,
                    "description": "1 to 250 (the many-recipient route)." },
                "attributes": { "type": ["object", "null"], "description": "`%%Name%%` values for \
                    every recipient." },
                "subscriptions": { "type": ["object", "null"], "properties": {
                    "resubscribe": flag("Subscribe again a number that opted out.") } },
                "content": { "type": ["object", "null"], "properties": {
                    "message": text_field("Replaces the definition's text.") } },
            }),
        ),
    );
    put(
        "OutboundMessageRequest",
        request(
            &[],
            json!({
                "MessageName": limited(domain::sms_messages::MAX_MESSAGE_NAME_CHARS, "The message's name."),
                "MessageText": text_field("The message's text."),
                "ShortCode": nullable("string", "A short code of the account (or LongCode)."),
                "LongCode": nullable("string", "A long code of the account (or ShortCode)."),
                "CountryCode": nullable("string", "The short code's two-letter country."),
            }),
        ),
    );
    put(
        "OptInMessageRequest",
        request(
            &[],
            json!({
                "messageName": limited(domain::sms_messages::MAX_MESSAGE_NAME_CHARS, "The opt-in message's name."),
                "shortCode": nullable("string", "A short code of the account (or longCode)."),
                "longCode": nullable("string", "A long code of the account (or shortCode)."),
                "countryCode": nullable("string", "The short code's two-letter country."),
                "keyword": nullable("string", "One word, not reserved, new on the code."),
                "messageOptInType": { "type": ["string", "null"], "enum": ["Single", "Double", "Age", null],
                    "description": "Matched ignoring case." },
                "responseMessage": text_field("Single: the reply to the keyword."),
                "doubleOptInInitialMessage": text_field("Double and Age: the request text."),
                "doubleOptInConfirmationMessage": text_field("Double and Age: the reply after a valid \
                    confirmation (also spelled doubleOptInConformationMessage)."),
                "doubleOptInConformationMessage": text_field("The documented spelling of \
                    doubleOptInConfirmationMessage."),
                "doubleOptInValidResponses": nullable("string", "Double: comma-separated \
                    confirmations, matched ignoring case (default `Y,YES`)."),
                "optInInvalidAgeMessage": text_field("Age: the reply to an age below MinimumAge."),
                "MinimumAge": { "type": ["integer", "string", "null"], "description": "Age: the \
                    youngest age that confirms (a number or a numeric string)." },
                "allowSingleOptIn": flag("A number already Subscribed gets duplicateOptInMessage."),
                "duplicateOptInMessage": text_field("The reply to a number already Subscribed."),
                "optinErrorMessage": text_field("Age: the reply to anything but an age."),
                "startDate": nullable("string", "`M/d/yyyy` or `yyyy-MM-dd` (a CST day): before it \
                    the keyword does not subscribe."),
                "endDate": nullable("string", "`M/d/yyyy` or `yyyy-MM-dd`: after it the keyword does \
                    not subscribe."),
                "NextKeyword": nullable("string", "The sender's next text is handled as if it \
                    began with this keyword."),
                "messageText": nullable("string", "Accepted and not used."),
            }),
        ),
    );
    put(
        "SubscriptionLookupRequest",
        request(
            &[],
            json!({
                "mobileNumber": { "type": ["array", "null"], "items": { "type": "string" }, "maxItems": 250 },
                "subscriberKey": { "type": ["array", "null"], "items": { "type": "string" }, "maxItems": 250 },
            }),
        ),
    );
    put(
        "FieldMap",
        request(
            &[],
            json!({
                "Destination": nullable("string", "`_MobileNumber`, `_CountryCode`, \
                    `_SubscriberKey` or an attribute name."),
                "Ordinal": { "type": ["integer", "string", "null"], "description": "0-based column \
                    (MapByOrdinal)." },
                "Source": nullable("string", "Header name, matched case-insensitively \
                    (MapByHeader)."),
            }),
        ),
    );
    put(
        "QueueImportRequest",
        request(
            &[],
            json!({
                "ListId": nullable("string", "Ignored: the path names the list."),
                "ShortCode": nullable("string", "With Keyword: subscribe the imported numbers."),
                "Keyword": nullable("string", "A keyword on ShortCode."),
                "FileName": nullable("string", "A plain file name of a regular file in the account's \
                    folder `<data dir>/imports/<accountId>/`."),
                "FileType": nullable("string", "`csv`."),
                "IsFirstRowHeader": flag("The first row names the columns."),
                "ImportMappingType": { "type": ["string", "null"], "enum": ["MapByOrdinal", "MapByHeader", null],
                    "description": "Matched ignoring case." },
                "FieldMaps": { "type": ["array", "null"], "items": schema("FieldMap") },
            }),
        ),
    );
    put(
        "DeliveryReportRequest",
        request(
            &[],
            json!({ "filename": nullable("string", "A plain file name of at most 200 bytes, written in \
                the account's folder `<data dir>/reports/<accountId>/`.") }),
        ),
    );

    // Admin.
    put(
        "NewAccount",
        request(
            &["name"],
            json!({
                "id": nullable("string", "An explicit ID (API.md §3); minted when absent."),
                "name": { "type": "string", "minLength": 1 },
            }),
        ),
    );
    put(
        "NewClient",
        request(
            &[],
            json!({
                "scopes": { "type": ["array", "null"], "items": { "type": "string",
                    "enum": ["sms_read", "sms_send", "sms_write"] }, "description": "Default: all \
                        three." },
                "accounts": nullable_strings("Other accounts the client may act for (`account_id` \
                    of /v2/token)."),
            }),
        ),
    );
    put(
        "NewCode",
        request(
            &["code"],
            json!({
                "code": { "type": "string", "pattern": "^[A-Za-z0-9]{3,15}$" },
                "countryCode": nullable("string", "Default `US`."),
                "type": { "type": ["string", "null"], "enum": ["short", "long", null], "description": "Default `short`." },
                "carrier": nullable("string", "A configured carrier; default `simulator`."),
                "optOutText": text_field("Reply to STOP."),
                "helpText": text_field("Reply to HELP."),
            }),
        ),
    );
    put(
        "CodePatch",
        request(
            &[],
            json!({
                "code": nullable("string", "Only the code's own string: it can't be changed."),
                "countryCode": nullable("string", ""),
                "type": { "type": ["string", "null"], "enum": ["short", "long", null] },
                "carrier": nullable("string", "A configured carrier."),
                "optOutText": text_field("Reply to STOP; \"\" restores the default."),
                "helpText": text_field("Reply to HELP; \"\" restores the default."),
            }),
        ),
    );
    put(
        "NewKeyword",
        request(
            &["code", "keyword"],
            json!({
                "code": { "type": "string", "minLength": 1, "description": "The code string (or \
                    its ID)." },
                "keyword": { "type": "string", "minLength": 1, "description": "One word." },
                "response": text_field("Reply to an opt-in."),
                "doubleOptIn": flag("The first text asks for a Y/YES confirmation."),
                "confirmText": text_field("The confirmation request (required with \
                    doubleOptIn)."),
            }),
        ),
    );
    put(
        "KeywordPatch",
        request(
            &[],
            json!({
                "code": nullable("string", "Only the keyword's own code: it can't be changed."),
                "keyword": nullable("string", "Only the keyword's own word (any case)."),
                "response": text_field("Reply to an opt-in; \"\" clears it."),
                "doubleOptIn": flag("The first text asks for a Y/YES confirmation."),
                "confirmText": text_field("The confirmation request; \"\" clears it."),
                "optIn": {
                    "type": ["object", "null"],
                    "description": "An opt-in message's rules (API.md §6b), set as a whole; null \
                        makes it an ordinary keyword. Double and Age set doubleOptIn.",
                    "properties": {
                        "kind": { "type": "string", "enum": ["Single", "Double", "Age"] },
                        "name": { "type": "string" },
                        "validResponses": { "type": "array", "items": { "type": "string" } },
                        "minimumAge": { "type": "integer", "minimum": 0 },
                        "invalidAgeText": { "type": "string" },
                        "errorText": { "type": "string" },
                        "duplicateText": { "type": "string" },
                        "startDate": { "type": "string", "description": "yyyy-MM-dd or M/d/yyyy" },
                        "endDate": { "type": "string" },
                        "nextKeyword": { "type": "string" },
                    },
                    "required": ["kind"],
                },
            }),
        ),
    );
    let message_fields = |with_id: bool| {
        let mut p = json!({
            "name": nullable("string", "Default: the ID."),
            "code": { "type": "string", "description": "A code of the account." },
            "text": text_field("The text; `%%Name%%` placeholders take contact \
                attributes."),
            "status": { "type": ["string", "null"], "enum": ["Active", "Scheduled", "Inactive", "Draft", null],
                "description": "Default Active; matched ignoring case." },
            "targetListIds": nullable_strings("Default target lists."),
            "exclusionListIds": nullable_strings("Default exclusion lists."),
            "contentUrl": nullable("string", "http(s) URL of media; null or \"\" clears it."),
        });
        if with_id {
            p["id"] = nullable("string", "An explicit ID (API.md §3); minted when absent.");
            request(&["code"], p)
        } else {
            p["code"] = nullable("string", "A code of the account.");
            request(&[], p)
        }
    };
    put("NewMessage", message_fields(true));
    put("MessagePatch", message_fields(false));
    put(
        "NewList",
        request(
            &["name"],
            json!({
                "id": nullable("string", "An explicit ID (API.md §3); minted when absent."),
                "name": { "type": "string", "minLength": 1 },
            }),
        ),
    );
    put(
        "ContactsImport",
        request(
            &["contacts"],
            json!({
                "contacts": { "type": "array", "maxItems": crate::admin::MAX_JSON_CONTACTS,
                    "items": request(&["mobileNumber"], json!({
                    "mobileNumber": { "type": "string" },
                    "subscriberKey": limited(domain::limits::MAX_KEY_CHARS, ""),
                    "attributes": { "type": ["object", "null"],
                        "description": "String, number or boolean values (others are ignored): \
                            names of at most 255 characters, values of at most 1600; a longer one \
                            rejects its contact." },
                })) },
                "subscribe": { "type": ["object", "null"], "required": ["code", "keyword"], "properties": {
                    "code": { "type": "string" },
                    "keyword": { "type": "string" },
                }, "description": "Subscribe the imported numbers to this keyword on this code." },
            }),
        ),
    );
    put(
        "SubscriptionSet",
        request(
            &["mobileNumber", "code", "keyword", "status"],
            json!({
                "mobileNumber": { "type": "string" },
                "code": { "type": "string" },
                "keyword": { "type": "string" },
                "status": { "type": "string", "enum": ["Subscribed", "Unsubscribed", "InProgress"],
                    "description": "Matched ignoring case." },
            }),
        ),
    );

    Value::Object(s)
}

/// An error response whose body is `T`, a typed response (`crate::responses`).
fn error_response<T: JsonSchema>(g: &mut SchemaGenerator, description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": g.subschema_for::<T>() } },
    })
}

fn error_responses(g: &mut SchemaGenerator) -> Value {
    let mut sms_unauthorized = error_response::<NotAuthorized>(
        g,
        "Missing, unknown, expired or revoked access token (API.md §2).",
    );
    sms_unauthorized["headers"] = json!({
        "WWW-Authenticate": {
            "required": true,
            "description": "`Bearer error=\"invalid_token\", error_description=\"The access token \
                is invalid or expired\"`",
            "schema": { "type": "string", "pattern": "^Bearer\\s.+?invalid_token" },
        },
    });
    let mut rate_limited = error_response::<RateLimited>(
        g,
        "Too many requests from this API client, or (`/v2/token`) too many failed token \
            requests for this client_id (API.md §2).",
    );
    rate_limited["headers"] = json!({
        "Retry-After": {
            "required": true,
            "description": "Seconds to wait.",
            "schema": { "type": "integer", "minimum": 1 },
        },
    });
    let mut admin_throttled = error_response::<Errors>(
        g,
        "Too many wrong admin tokens from this address; every admin request from it waits, a \
            correct token included (API.md §8).",
    );
    admin_throttled["headers"] = rate_limited["headers"].clone();
    json!({
        "BadRequest": error_response::<Errors>(g,
            "Validation failed: every applicable message, in the contract's order (API.md §1)."),
        "FieldErrorsBadRequest": error_response::<FieldErrors>(g,
            "Validation failed, in MobileConnect's documented `fieldErrors` shape: every \
                applicable message, in the contract's order (API.md §6b)."),
        "TransactionalBadRequest": error_response::<TxErrorBody>(g,
            "Refused: one error in the transactional body, the first in the reference's field \
                order (API.md §9; the details in docs/transactional.md)."),
        "TransactionalConflict": error_response::<TxErrorBody>(g,
            "Code 30004: the key or the name exists."),
        "TransactionalNotFound": error_response::<TxErrorBody>(g,
            "Code 30003: no such key in the account."),
        "FieldErrorsConflict": error_response::<FieldErrors>(g,
            "The keyword already exists on the code, in the `fieldErrors` shape."),
        "TokenBadRequest": error_response::<OAuthErrorBody>(g,
            "`unsupported_grant_type` (checked first) or `invalid_request` (a body that is neither \
                JSON nor form-encoded)."),
        "TokenUnauthorized": error_response::<OAuthErrorBody>(g,
            "`invalid_client` (unknown client or wrong secret) or `unauthorized_client` \
                (account_id not granted)."),
        "SmsUnauthorized": sms_unauthorized,
        "Forbidden": error_response::<InsufficientPrivileges>(g,"The token lacks the operation's \
            scope."),
        "AdminUnauthorized": error_response::<AdminNotAuthorized>(g,"Missing or wrong admin token."),
        "AdminThrottled": admin_throttled,
        "NotFound": error_response::<NotFound>(g,"Not found."),
        "MethodNotAllowed": error_response::<MethodNotAllowed>(g,
            "The path (here: with an empty last parameter) does not take this method."),
        "Conflict": error_response::<Errors>(g,"A duplicate or a conflicting state."),
        "TooLarge": error_response::<TooLarge>(g,
            "JSON bodies over 1 MiB (CSV uploads to the admin API: over 1 GiB)."),
        "RequestTimeout": error_response::<RequestTimeout>(g,
            "The body did not arrive in time: a JSON or form body 30 s after its head, or a \
            streamed CSV upload that sent no byte for 30 s. The connection is closed."),
        "RateLimited": rate_limited,
        "InternalError": error_response::<InternalError>(g,
            "Unexpected failure; the reference id is logged with the cause."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/sms/v1/messageList/{id}/send` → `sms/v1/messagelist/{}/send`.
    fn normalised(template: &str) -> String {
        template
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    "{}".to_string()
                } else {
                    s.to_ascii_lowercase()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// (normalised path, method) of every operation of a document, operational paths aside.
    fn documented(doc: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            if OPERATIONAL_PATHS.contains(&path.as_str()) {
                continue;
            }
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                out.push((normalised(path), method.to_ascii_uppercase()));
            }
        }
        out.sort();
        out
    }

    fn table() -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = routing::routes()
            .flat_map(|r| {
                r.endpoints
                    .iter()
                    .map(move |e| (normalised(r.path), e.method.as_str().to_string()))
            })
            .collect();
        out.sort();
        out
    }

    /// What differs between a document's operations and the route table.
    fn sync_problems(doc: &Value) -> Vec<String> {
        let (doc_ops, table_ops) = (documented(doc), table());
        let missing = table_ops.iter().filter(|o| !doc_ops.contains(o));
        let extra = doc_ops.iter().filter(|o| !table_ops.contains(o));
        missing
            .map(|(p, m)| format!("route without an operation: {m} {p}"))
            .chain(extra.map(|(p, m)| format!("operation without a route: {m} {p}")))
            .collect()
    }

    #[test]
    fn every_route_and_method_is_documented_and_nothing_else() {
        let problems = sync_problems(document());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_sync_check_fails_when_a_path_or_method_is_missing_or_extra() {
        let mut doc = document().clone();
        let paths = doc["paths"].as_object_mut().expect("paths");
        paths.remove("/sms/v1/queueMO");
        assert_eq!(
            sync_problems(&doc),
            ["route without an operation: POST sms/v1/queuemo"]
        );

        let mut doc = document().clone();
        doc["paths"]["/admin/v1/outbox"]["delete"] = json!({});
        assert_eq!(
            sync_problems(&doc),
            ["operation without a route: DELETE admin/v1/outbox"]
        );
    }

    /// What an operation of the document lacks: an operationId, a summary, a success response
    /// with a JSON schema.
    fn description_problems(path: &str, method: &str, op: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for field in ["operationId", "summary"] {
            if op[field].as_str().is_none_or(str::is_empty) {
                out.push(format!("{method} {path}: no {field}"));
            }
        }
        let success = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .find(|(status, _)| status.starts_with('2'));
        match success {
            Some((_, r)) if r["content"]["application/json"]["schema"].is_object() => {}
            _ => out.push(format!(
                "{method} {path}: no success response with a schema"
            )),
        }
        out
    }

    /// The route table's test: every method of every entry has its OpenAPI operation, fully
    /// described, and the document has no operation the table lacks.
    #[test]
    fn every_table_entry_and_method_has_its_operation_description() {
        let doc = document();
        let mut problems = sync_problems(doc);
        for route in routing::routes() {
            for e in route.endpoints {
                let method = e.method.as_str().to_ascii_lowercase();
                match doc["paths"][route.path].get(&method) {
                    Some(op) => problems.extend(description_problems(route.path, &method, op)),
                    None => problems.push(format!("{method} {}: not in the document", route.path)),
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The schemas of typed responses are generated into the components, closed, with what
    /// the wire carries required.
    #[test]
    fn typed_responses_have_generated_closed_schemas() {
        let schemas = &document()["components"]["schemas"];
        assert_eq!(
            schemas["KeywordCreated"]["properties"]["keywordId"]["type"],
            "string"
        );
        assert_eq!(
            schemas["KeywordCreated"]["required"],
            json!(["keywordId", "KeywordId"])
        );
        assert_eq!(schemas["KeywordCreated"]["additionalProperties"], false);
        assert_eq!(
            schemas["KeywordDeleted"]["properties"]["status"]["const"],
            "Success"
        );
        assert_eq!(
            schemas["SendAccepted"]["properties"]["tokenId"]["pattern"],
            crate::responses::TOKEN_PATTERN
        );
        let op = &document()["paths"]["/sms/v1/keyword"]["post"];
        assert_eq!(
            op["responses"]["202"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/KeywordCreated"
        );
    }

    #[test]
    fn hand_written_schemas_do_not_shadow_generated_ones() {
        let mut generator = schema_generator();
        for route in routing::routes() {
            for e in route.endpoints {
                operation_object(route, e, &mut generator);
            }
        }
        operational_paths(&mut Map::new(), &mut generator);
        error_responses(&mut generator);
        let generated = generator.take_definitions(true);
        let hand_written = schemas(Map::new());
        for name in generated.keys() {
            assert!(
                hand_written.get(name).is_none(),
                "{name} is generated and written by hand"
            );
        }
    }

    /// The `$ref`s anywhere in `v`, as component schema names.
    fn referenced_schemas(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_str()) {
                        ("$ref", Some(r)) => {
                            if let Some(name) = r.strip_prefix("#/components/schemas/") {
                                out.push(name.to_string());
                            }
                        }
                        _ => referenced_schemas(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| referenced_schemas(x, out)),
            _ => {}
        }
    }

    /// Every response body's schema, and every schema it uses, is generated from a typed
    /// response: none is written by hand.
    #[test]
    fn response_schemas_are_generated() {
        let doc = document();
        let mut pending = Vec::new();
        for item in doc["paths"].as_object().into_iter().flatten() {
            for op in item.1.as_object().into_iter().flatten() {
                referenced_schemas(&op.1["responses"], &mut pending);
            }
        }
        referenced_schemas(&doc["components"]["responses"], &mut pending);
        let hand_written = schemas(Map::new());
        let mut seen = std::collections::BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            assert!(
                hand_written.get(&name).is_none(),
                "the response schema {name} is written by hand"
            );
            referenced_schemas(&doc["components"]["schemas"][&name], &mut pending);
        }
        assert!(seen.contains("SendStatus") && seen.contains("InternalError"));
    }

    /// Every `$ref` names a component that exists.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, doc: &Value, seen: &mut usize) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        let pointer = r.trim_start_matches('#');
                        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                        *seen += 1;
                    }
                    map.values().for_each(|x| walk(x, doc, seen));
                }
                Value::Array(items) => items.iter().for_each(|x| walk(x, doc, seen)),
                _ => {}
            }
        }
        let mut seen = 0;
        walk(document(), document(), &mut seen);
        assert!(seen > 100, "only {seen} references");
    }

    /// Every link names an operation, and only parameters of it.
    #[test]
    fn links_name_operations_and_their_parameters() {
        let mut operations = std::collections::HashMap::new();
        for (_, item) in document()["paths"].as_object().into_iter().flatten() {
            for (_, op) in item.as_object().into_iter().flatten() {
                let names: Vec<String> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect();
                operations.insert(op["operationId"].as_str().unwrap_or("").to_string(), names);
            }
        }
        let mut links = 0;
        for (_, item) in document()["paths"].as_object().into_iter().flatten() {
            for (_, op) in item.as_object().into_iter().flatten() {
                for (_, response) in op["responses"].as_object().into_iter().flatten() {
                    for (name, link) in response["links"].as_object().into_iter().flatten() {
                        let target = link["operationId"].as_str().unwrap_or("");
                        let params = operations
                            .get(target)
                            .unwrap_or_else(|| panic!("link {name} names no operation"));
                        for (p, _) in link["parameters"].as_object().into_iter().flatten() {
                            assert!(params.contains(p), "{target} has no parameter {p}");
                        }
                        links += 1;
                    }
                }
            }
        }
        assert!(links >= 20, "only {links} links");
    }

    #[test]
    fn operation_ids_are_unique() {
        let mut ids = Vec::new();
        for item in document()["paths"].as_object().into_iter().flatten() {
            for op in item.1.as_object().into_iter().flatten() {
                ids.push(
                    op.1["operationId"]
                        .as_str()
                        .expect("operationId")
                        .to_string(),
                );
            }
        }
        let before = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), before);
    }

    #[test]
    fn every_operation_has_a_success_and_typed_errors() {
        for (path, item) in document()["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let responses = op["responses"].as_object().expect("responses");
                assert!(
                    responses.keys().any(|k| k.starts_with('2')),
                    "{method} {path} has no success"
                );
                assert!(!responses.contains_key("default"), "{method} {path}");
                if !OPERATIONAL_PATHS.contains(&path.as_str()) {
                    assert!(responses.contains_key("401"), "{method} {path}");
                    assert!(responses.contains_key("500"), "{method} {path}");
                }
            }
        }
    }
}
