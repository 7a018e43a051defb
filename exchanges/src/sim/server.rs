//! A small HTTP/1.1 server on `std::net` that every exchange simulator runs on.
//!
//! One thread per connection, keep-alive, bodies framed by `Content-Length` in both directions.
//! A request keeps its query string raw (exactly as sent), because exchanges sign the raw text.
//! The exchange-specific part is a [`Handler`]; the server itself injects the faults of a
//! [`FaultConfig`] (5xx, slow answers, cut-off bodies, 429s) before or after asking the handler,
//! so every simulator gets them alike. The server stops on [`Server::stop`] or on drop: a stop
//! flag, a connection to itself to wake the accept loop, and a shutdown of every open socket,
//! so no thread outlives it for long.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::faults::{FaultConfig, FaultKind, Faults};

/// The largest request head (request line and headers) the server reads, in bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest request body the server accepts, in bytes.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How long an idle keep-alive connection may wait for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, upper case as sent (`GET`, `POST`).
    pub method: String,
    /// The path without the query string (`/api/v3/myTrades`).
    pub path: String,
    /// The raw query string after `?`, exactly as sent (empty when there is none).
    pub query: String,
    /// The headers in the order received, names as sent.
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

/// One HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Extra headers (`Content-Length` and `Connection` are added by the server).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a JSON body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json;charset=UTF-8".into())],
            body: body.into(),
        }
    }

    /// A plain-text response.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// What an exchange simulator does with requests.
pub trait Handler: Send + Sync + 'static {
    /// The answer to one request.
    fn handle(&self, request: &Request) -> Response;

    /// The exchange's own answer for an injected error status (500/502/503, or 429 for which
    /// the server adds `Retry-After: 1` if the handler gives none).
    fn error_response(&self, status: u16, _request: &Request) -> Response {
        Response::json(status, format!("{{\"error\":\"injected fault, HTTP {status}\"}}"))
    }
}

/// The state shared by the accept loop and the connection threads.
struct Shared {
    handler: Arc<dyn Handler>,
    faults: Option<Mutex<Faults>>,
    stop: AtomicBool,
    open: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicU64,
    requests: AtomicU64,
}

/// A running simulator server; stops on drop.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `127.0.0.1:{port}` (0 = a port the OS chooses) and serves `handler` until stopped.
    pub fn start(port: u16, handler: Arc<dyn Handler>, faults: Option<FaultConfig>) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler,
            faults: faults.map(|config| Mutex::new(Faults::new(config))),
            stop: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let shared = Arc::clone(&shared);
            let workers = Arc::clone(&workers);
            std::thread::Builder::new()
                .name(format!("sim-accept-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared, &workers))?
        };
        Ok(Server { addr, shared, accept: Some(accept), workers })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests have been read so far (faulted ones included).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// How many faults of each kind have been injected so far.
    pub fn faults_injected(&self) -> BTreeMap<String, u64> {
        match &self.shared.faults {
            Some(faults) => faults.lock().unwrap_or_else(PoisonError::into_inner).injected(),
            None => BTreeMap::new(),
        }
    }

    /// Changes how long injected timeouts stay silent (no effect without faults).
    pub fn set_timeout_delay(&self, delay: Duration) {
        if let Some(faults) = &self.shared.faults {
            faults.lock().unwrap_or_else(PoisonError::into_inner).set_timeout_delay(delay);
        }
    }

    /// Whether the server is still serving.
    pub fn is_running(&self) -> bool {
        !self.shared.stop.load(Ordering::SeqCst)
    }

    /// Stops accepting, closes every open connection and waits for the threads to end.
    pub fn stop(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for stream in self.shared.open.lock().unwrap_or_else(PoisonError::into_inner).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let workers: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, workers: &Arc<Mutex<Vec<JoinHandle<()>>>>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Too many open files and the like: wait a little rather than spin.
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            shared.open.lock().unwrap_or_else(PoisonError::into_inner).insert(id, clone);
        }
        let connection_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new().name("sim-conn".into()).spawn(move || {
            serve_connection(stream, &connection_shared);
            connection_shared.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        });
        let mut list = workers.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|worker| !worker.is_finished());
        match spawned {
            Ok(handle) => list.push(handle),
            Err(_) => {
                shared.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
            }
        }
    }
}

/// What reading one request gave.
enum Incoming {
    Request(Request, bool),
    /// The client closed the connection (or went silent) between requests.
    Closed,
    /// The request could not be parsed; answer with this status and close.
    Bad(u16, &'static str),
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(peer) = stream.peer_addr() else { return };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let Ok(write_half) = stream.try_clone() else { return };
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut writer = io::BufWriter::with_capacity(64 * 1024, write_half);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let (request, keep_alive) = match read_request(&mut reader, peer) {
            Incoming::Request(request, keep_alive) => (request, keep_alive),
            Incoming::Closed => return,
            Incoming::Bad(status, reason) => {
                let _ = write_response(&mut writer, &Response::text(status, reason), false, None);
                return;
            }
        };
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let fault =
            shared.faults.as_ref().and_then(|faults| faults.lock().unwrap_or_else(PoisonError::into_inner).draw());
        let outcome = match fault {
            None => write_response(&mut writer, &shared.handler.handle(&request), keep_alive, None),
            Some((FaultKind::ServerError, status)) => {
                write_response(&mut writer, &shared.handler.error_response(status, &request), keep_alive, None)
            }
            Some((FaultKind::TooManyRequests, _)) => {
                let mut response = shared.handler.error_response(429, &request);
                if response.header("Retry-After").is_none() {
                    response.headers.push(("Retry-After".into(), "1".into()));
                }
                write_response(&mut writer, &response, keep_alive, None)
            }
            Some((FaultKind::Truncated, _)) => {
                let response = shared.handler.handle(&request);
                let _ = write_response(&mut writer, &response, true, Some(response.body.len() / 2));
                return;
            }
            Some((FaultKind::Timeout, _)) => {
                let delay = shared.faults.as_ref().map_or(Duration::ZERO, |faults| {
                    faults.lock().unwrap_or_else(PoisonError::into_inner).timeout_delay()
                });
                sleep_unless_stopped(delay, &shared.stop);
                // Then drop the connection without an answer.
                return;
            }
        };
        if outcome.is_err() || !keep_alive {
            return;
        }
    }
}

fn sleep_unless_stopped(delay: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let mut slept = Duration::ZERO;
    while slept < delay && !stop.load(Ordering::SeqCst) {
        let nap = step.min(delay - slept);
        std::thread::sleep(nap);
        slept += nap;
    }
}

/// Reads one line ending in `\n` into `line`, counting against the head budget.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, budget: &mut usize) -> io::Result<usize> {
    line.clear();
    let read = reader.take(*budget as u64 + 1).read_until(b'\n', line)?;
    if read > *budget {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
    }
    *budget -= read;
    Ok(read)
}

fn read_request(reader: &mut BufReader<TcpStream>, peer: SocketAddr) -> Incoming {
    let mut budget = MAX_HEAD_BYTES;
    let mut line = Vec::with_capacity(256);
    // Skip blank lines between requests (RFC 9112 allows a stray CRLF).
    loop {
        match read_line(reader, &mut line, &mut budget) {
            Ok(0) => return Incoming::Closed,
            Ok(_) if line == b"\r\n" || line == b"\n" => continue,
            Ok(_) => break,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Incoming::Bad(431, "request head too large");
            }
            Err(_) => return Incoming::Closed,
        }
    }
    let Ok(request_line) = std::str::from_utf8(&line) else { return Incoming::Bad(400, "bad request line") };
    let mut parts = request_line.trim_end_matches(['\r', '\n']).split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Incoming::Bad(400, "bad request line");
    };
    if method.is_empty()
        || !method.bytes().all(|byte| byte.is_ascii_uppercase())
        || !target.starts_with('/')
        || !matches!(version, "HTTP/1.1" | "HTTP/1.0")
    {
        return Incoming::Bad(400, "bad request line");
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (target.to_owned(), String::new()),
    };
    let mut keep_alive = version == "HTTP/1.1";
    let (method, version) = (method.to_owned(), version.to_owned());
    let mut headers = Vec::new();
    loop {
        match read_line(reader, &mut line, &mut budget) {
            Ok(0) => return Incoming::Closed,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Incoming::Bad(431, "request head too large");
            }
            Err(_) => return Incoming::Closed,
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let Ok(text) = std::str::from_utf8(&line) else { return Incoming::Bad(400, "bad header") };
        let Some((name, value)) = text.trim_end_matches(['\r', '\n']).split_once(':') else {
            return Incoming::Bad(400, "bad header");
        };
        if name.is_empty() || name.bytes().any(|byte| byte.is_ascii_whitespace()) {
            return Incoming::Bad(400, "bad header");
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let header = |wanted: &str| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, v)| v);
    if let Some(connection) = header("Connection") {
        let connection = connection.to_ascii_lowercase();
        if connection.contains("close") {
            keep_alive = false;
        } else if connection.contains("keep-alive") && version == "HTTP/1.0" {
            keep_alive = true;
        }
    }
    if header("Transfer-Encoding").is_some() {
        return Incoming::Bad(411, "chunked request bodies are not supported; send Content-Length");
    }
    let length = match header("Content-Length") {
        None => 0,
        Some(text) => match text.parse::<usize>() {
            Ok(length) => length,
            Err(_) => return Incoming::Bad(400, "bad Content-Length"),
        },
    };
    if length > MAX_BODY_BYTES {
        return Incoming::Bad(413, "request body too large");
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return Incoming::Closed;
    }
    Incoming::Request(Request { method, path, query, headers, body, peer }, keep_alive)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes a response; with `cut_at`, writes only that many body bytes (the header still says
/// the full length) and the caller closes the connection.
fn write_response(
    writer: &mut impl Write,
    response: &Response,
    keep_alive: bool,
    cut_at: Option<usize>,
) -> io::Result<()> {
    let mut head = String::with_capacity(256);
    head.push_str("HTTP/1.1 ");
    head.push_str(&response.status.to_string());
    head.push(' ');
    head.push_str(reason_phrase(response.status));
    head.push_str("\r\n");
    for (name, value) in &response.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("Content-Length: ");
    head.push_str(&response.body.len().to_string());
    head.push_str(if keep_alive { "\r\nConnection: keep-alive\r\n\r\n" } else { "\r\nConnection: close\r\n\r\n" });
    writer.write_all(head.as_bytes())?;
    let body = match cut_at {
        Some(cut) => &response.body[..cut.min(response.body.len())],
        None => &response.body[..],
    };
    writer.write_all(body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl Handler for Echo {
        fn handle(&self, request: &Request) -> Response {
            let text = format!(
                "{} {} q={} body={} ua={}",
                request.method,
                request.path,
                request.query,
                request.body.len(),
                request.header("x-test").unwrap_or("-")
            );
            Response::text(200, text)
        }
    }

    fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream.write_all(bytes).unwrap();
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out);
        out
    }

    #[test]
    fn two_requests_on_one_keep_alive_connection() {
        let server = Server::start(0, Arc::new(Echo), None).unwrap();
        let answer = raw_exchange(
            server.addr(),
            b"GET /a?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nX-Test: one\r\n\r\n\
              POST /b HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\nConnection: close\r\n\r\nhello",
        );
        assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
        assert!(answer.contains("GET /a q=x=1&y=%20 body=0 ua=one"), "{answer}");
        assert!(answer.contains("POST /b q= body=5 ua=-"), "{answer}");
        assert_eq!(server.requests(), 2);
    }

    #[test]
    fn reqwest_reuses_the_connection() {
        let server = Server::start(0, Arc::new(Echo), None).unwrap();
        let client = reqwest::blocking::Client::new();
        for index in 0..5 {
            let text = client.get(format!("{}/p?i={index}", server.base_url())).send().unwrap().text().unwrap();
            assert_eq!(text, format!("GET /p q=i={index} body=0 ua=-"));
        }
        let big = "k=v&".repeat(500_000);
        let response = client.post(format!("{}/big", server.base_url())).body(big.clone()).send().unwrap();
        assert_eq!(response.text().unwrap(), format!("POST /big q= body={} ua=-", big.len()));
    }

    #[test]
    fn garbage_gets_400_and_the_server_survives() {
        let server = Server::start(0, Arc::new(Echo), None).unwrap();
        let answer = raw_exchange(server.addr(), b"this is not http\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        let answer = raw_exchange(server.addr(), b"GET nopath HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        let answer = raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        // A client that goes away mid-request does not hurt anyone.
        raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort");
        let answer = raw_exchange(server.addr(), b"GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }

    #[test]
    fn stop_closes_idle_connections_promptly() {
        let mut server = Server::start(0, Arc::new(Echo), None).unwrap();
        let mut idle = TcpStream::connect(server.addr()).unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let started = std::time::Instant::now();
        server.stop();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!server.is_running());
        assert!(TcpStream::connect_timeout(&server.addr(), Duration::from_millis(200)).is_err());
    }
}
