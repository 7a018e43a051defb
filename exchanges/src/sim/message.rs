//! The request a simulator reads and the response it writes, free of any HTTP library's types.

use std::net::SocketAddr;
use std::time::Duration;

/// One HTTP request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, upper case as sent (`GET`, `POST`).
    pub method: String,
    /// The path without the query string (`/api/v3/myTrades`).
    pub path: String,
    /// The raw query string after `?`, exactly as sent (empty when there is none).
    pub query: String,
    /// The headers in the order received, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body bytes (empty for GET).
    pub body: Vec<u8>,
    /// Who sent it.
    pub peer: SocketAddr,
}

impl Request {
    /// The first header with this name, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The body as text (lossy for invalid UTF-8, which no simulator expects).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server delivers a response: whole, cut off, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Status, headers and the whole body.
    #[default]
    Whole,
    /// Status and headers announcing the whole body, then only this many body bytes, then
    /// the connection closes.
    CutAfter(usize),
    /// Nothing for this long, then the connection closes without an answer.
    Silence(Duration),
}

/// One HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Extra headers (`Content-Length` is added by the server).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// How the server sends it (whole unless a fault or a test says otherwise).
    pub delivery: Delivery,
}

impl Response {
    /// A response with a JSON body given as text or bytes.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json;charset=UTF-8".into())],
            body: body.into(),
            delivery: Delivery::Whole,
        }
    }

    /// A response with a JSON body serialised from a value (`json!` or a `Serialize` type).
    pub fn json_value(status: u16, value: &impl serde::Serialize) -> Response {
        // Serialising plain data (maps with string keys, numbers, strings) cannot fail.
        Response::json(status, serde_json::to_vec(value).unwrap_or_default())
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into().into_bytes(),
            delivery: Delivery::Whole,
        }
    }

    /// No answer for `delay`, then the connection closes.
    pub fn silence(delay: Duration) -> Response {
        Response { status: 0, headers: Vec::new(), body: Vec::new(), delivery: Delivery::Silence(delay) }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same response, cut off after `sent` body bytes (the headers still announce all).
    pub fn cut_after(mut self, sent: usize) -> Response {
        self.delivery = Delivery::CutAfter(sent.min(self.body.len()));
        self
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}
