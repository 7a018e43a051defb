//! The HTTP kit's test server: the simulators' server with replies chosen by a closure, and a
//! record of every request it saw (for the client's tests and the exchange protocols').

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::sim::server::{Handler, Request, Response, Server};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// A query parameter's raw value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, v)| v)
    }
}

/// What to answer.
pub(crate) enum Reply {
    /// A complete answer.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Headers announcing the whole body, then only `sent` bytes of it, then close.
    Truncated { status: u16, body: Vec<u8>, sent: usize },
    /// Say nothing for this long, then close.
    Stall(Duration),
}

impl Reply {
    /// A complete answer with a JSON body.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Full { status, headers: Vec::new(), body: body.as_bytes().to_vec() }
    }

    /// A complete answer with a JSON body and extra headers.
    pub fn json_with(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        Reply::Full {
            status,
            headers: headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The simulator response that delivers this reply.
    fn into_response(self) -> Response {
        match self {
            Reply::Full { status, headers, body } => headers
                .into_iter()
                .fold(Response::json(status, body), |response, (name, value)| response.with_header(name, value)),
            Reply::Truncated { status, body, sent } => Response::json(status, body).cut_after(sent),
            Reply::Stall(duration) => Response::silence(duration),
        }
    }
}

type Replies = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// Records each request and answers it with the closure.
struct Scripted {
    replies: Box<Replies>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Handler for Scripted {
    fn handle(&self, request: &Request) -> Response {
        let seen = Seen {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body: request.body_text(),
        };
        let index = {
            let mut all = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            all.push(seen.clone());
            all.len() - 1
        };
        (self.replies)(index, &seen).into_response()
    }
}

/// A running server; stops on drop.
pub(crate) struct TestServer {
    server: Server,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 answering request number `n` (0-based) with `replies`.
    pub fn start(replies: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> TestServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Scripted { replies: Box::new(replies), seen: Arc::clone(&seen) };
        let server = Server::start(0, Arc::new(handler), None).expect("a local test server starts");
        TestServer { server, seen }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
