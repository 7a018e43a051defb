//! The HTTP server every exchange simulator runs on, built on `hyper`.
//!
//! Why `hyper` (HTTP/1.1 only, one small tokio runtime per server) rather than a synchronous
//! crate such as `tiny_http`: the simulators must inject faults at the connection level, and
//! `tiny_http` owns its connections without a way to close one — a cut-off body or a silent
//! answer would leave the socket open until the client's read timeout (seconds per fault
//! instead of an immediate failure), and stopping a server would leave keep-alive connections
//! served by nobody. With `hyper`, a body that fails mid-way aborts its connection, a failed
//! service closes it without an answer, and dropping the runtime closes every socket at once.
//! `hyper` and `tokio` are already in the build through `reqwest`, so this adds no new crate.
//!
//! The exchange-specific part is a [`Handler`], called on a blocking thread with a
//! [`Request`] whose query string stays raw (exactly as sent), because exchanges sign the raw
//! text. The server injects the faults of a [`FaultConfig`] (5xx, slow answers, cut-off
//! bodies, 429s) before or after asking the handler, so every simulator gets them alike, and
//! delivers a [`Response`] as its [`Delivery`](super::message::Delivery) says.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use super::faults::{FaultConfig, FaultKind, Faults};
pub use super::message::{Delivery, Request, Response};

/// The largest request body the server accepts, in bytes.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How long a cut-off body waits after its last bytes before the connection is aborted, so
/// the bytes reach the client first.
const CUT_OFF_PAUSE: Duration = Duration::from_millis(20);
/// How long [`Server::stop`] waits for handlers still running.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What an exchange simulator does with requests.
pub trait Handler: Send + Sync + 'static {
    /// The answer to one request.
    fn handle(&self, request: &Request) -> Response;

    /// The exchange's own answer for an injected error status (500/502/503, or 429 for which
    /// the server adds `Retry-After: 1` if the handler gives none).
    fn error_response(&self, status: u16, _request: &Request) -> Response {
        Response::json_value(status, &serde_json::json!({ "error": format!("injected fault, HTTP {status}") }))
    }
}

/// The state shared by the server's tasks.
struct Shared {
    handler: Arc<dyn Handler>,
    faults: Option<Mutex<Faults>>,
    stopped: AtomicBool,
    requests: AtomicU64,
}

/// A running simulator server; stops on drop.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `127.0.0.1:{port}` (0 = a port the OS chooses) and serves `handler` until stopped.
    pub fn start(port: u16, handler: Arc<dyn Handler>, faults: Option<FaultConfig>) -> io::Result<Server> {
        let listener = StdListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler,
            faults: faults.map(|config| Mutex::new(Faults::new(config))),
            stopped: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = watch::channel(false);
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new().name(format!("sim-http-{}", addr.port())).spawn(move || {
                let mut stopped = stopped;
                runtime.block_on(async move {
                    tokio::spawn(accept_loop(listener, shared));
                    // Runs until told to stop (or until the `Server` is gone).
                    let _ = stopped.changed().await;
                });
                // Shutting the runtime down drops the accept task and every connection task,
                // which closes the listener and every socket.
                runtime.shutdown_timeout(STOP_GRACE);
            })?
        };
        Ok(Server { addr, shared, stop, thread: Some(thread) })
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
        !self.shared.stopped.load(Ordering::SeqCst)
    }

    /// Stops accepting, closes every open connection and waits for the server's thread to end.
    pub fn stop(&mut self) {
        if self.shared.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until the runtime shuts down; each connection is a task of its own.
async fn accept_loop(listener: StdListener, shared: Arc<Shared>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Too many open files and the like: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(Arc::clone(&shared), peer, request));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Why a connection ends without an answer (an injected silence).
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("silent answer: connection closed")
    }
}

impl std::error::Error for Hangup {}

/// Reads one request, draws a fault, asks the handler, and turns the answer into hyper's.
async fn answer(
    shared: Arc<Shared>,
    peer: SocketAddr,
    incoming: hyper::Request<Incoming>,
) -> Result<hyper::Response<Payload>, Hangup> {
    let (parts, body) = incoming.into_parts();
    let Ok(body) = Limited::new(body, MAX_BODY_BYTES).collect().await else {
        return Ok(into_hyper(Response::text(413, "request body too large or cut off")));
    };
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
        body: body.to_bytes().to_vec(),
        peer,
    };
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let response = match tokio::task::spawn_blocking(move || respond(&shared, &request)).await {
        Ok(response) => response,
        Err(_) => Response::text(500, "simulator handler panicked"),
    };
    if let Delivery::Silence(delay) = response.delivery {
        tokio::time::sleep(delay).await;
        return Err(Hangup);
    }
    Ok(into_hyper(response))
}

/// The handler's answer with the fault drawn for this request applied.
fn respond(shared: &Shared, request: &Request) -> Response {
    let fault = shared.faults.as_ref().and_then(|faults| faults.lock().unwrap_or_else(PoisonError::into_inner).draw());
    match fault {
        None => shared.handler.handle(request),
        Some((FaultKind::ServerError, status)) => shared.handler.error_response(status, request),
        Some((FaultKind::TooManyRequests, _)) => {
            let response = shared.handler.error_response(429, request);
            if response.header("Retry-After").is_some() { response } else { response.with_header("Retry-After", "1") }
        }
        Some((FaultKind::Truncated, _)) => {
            let response = shared.handler.handle(request);
            let half = response.body.len() / 2;
            response.cut_after(half)
        }
        Some((FaultKind::Timeout, _)) => {
            let delay = shared
                .faults
                .as_ref()
                .map_or(Duration::ZERO, |faults| faults.lock().unwrap_or_else(PoisonError::into_inner).timeout_delay());
            Response::silence(delay)
        }
    }
}

/// A simulator response as hyper's; headers hyper cannot carry are dropped.
fn into_hyper(response: Response) -> hyper::Response<Payload> {
    let cut = match response.delivery {
        Delivery::CutAfter(sent) => Some(sent.min(response.body.len())),
        Delivery::Whole | Delivery::Silence(_) => None,
    };
    let mut answer = hyper::Response::new(Payload::new(response.body, cut));
    *answer.status_mut() =
        hyper::StatusCode::from_u16(response.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(&value))
        {
            answer.headers_mut().append(name, value);
        }
    }
    answer
}

/// A response body whose length is announced in full; when cut, it sends only the first part
/// and then fails, which makes hyper abort the connection.
struct Payload {
    data: Option<Bytes>,
    announced: u64,
    cut: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Payload {
    fn new(body: Vec<u8>, cut: Option<usize>) -> Payload {
        let announced = body.len() as u64;
        let mut data = Bytes::from(body);
        if let Some(sent) = cut {
            data.truncate(sent);
        }
        let cut = cut.map(|_| Box::pin(tokio::time::sleep(CUT_OFF_PAUSE)));
        Payload { data: (!data.is_empty()).then_some(data), announced, cut }
    }
}

impl http_body::Body for Payload {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match self.cut.as_mut() {
            None => Poll::Ready(None),
            Some(pause) => match pause.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    self.cut = None;
                    Poll::Ready(Some(Err("body cut off on purpose".into())))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.cut.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.announced)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

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
        let answer = raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        // A client that goes away mid-request does not hurt anyone.
        raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort");
        let answer = raw_exchange(server.addr(), b"GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert_eq!(server.requests(), 1);
    }

    /// Answers every request cut off after 10 of its 100 body bytes, or not at all.
    struct Broken {
        silent: bool,
    }

    impl Handler for Broken {
        fn handle(&self, _: &Request) -> Response {
            if self.silent {
                Response::silence(Duration::from_millis(300))
            } else {
                Response::json(200, vec![b' '; 100]).cut_after(10)
            }
        }
    }

    #[test]
    fn a_cut_off_body_announces_its_full_length_then_closes_the_connection() {
        let server = Server::start(0, Arc::new(Broken { silent: false }), None).unwrap();
        let answer = raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.to_ascii_lowercase().contains("content-length: 100"), "{head}");
        assert_eq!(body.len(), 10, "{answer:?}");
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let started = Instant::now();
        let response = client.get(server.base_url()).send().unwrap();
        assert!(response.bytes().is_err());
        assert!(started.elapsed() < Duration::from_secs(2), "the cut must not wait for a timeout");
    }

    #[test]
    fn a_silent_answer_closes_the_connection_after_its_delay() {
        let server = Server::start(0, Arc::new(Broken { silent: true }), None).unwrap();
        let started = Instant::now();
        let answer = raw_exchange(server.addr(), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(answer, "");
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3), "{elapsed:?}");
    }

    #[test]
    fn injected_faults_reach_the_client() {
        let faults = FaultConfig { kinds: vec![FaultKind::TooManyRequests], ..FaultConfig::all(1000, 3) };
        let server = Server::start(0, Arc::new(Echo), Some(faults)).unwrap();
        let response = reqwest::blocking::get(server.base_url()).unwrap();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(response.text().unwrap().contains("injected fault, HTTP 429"));
        assert_eq!(server.faults_injected().get("too_many_requests"), Some(&1));
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
        // The kept-alive connection was closed by the server: reading it ends at once.
        idle.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut out = Vec::new();
        assert!(idle.read_to_end(&mut out).is_ok(), "the open connection must be closed");
    }
}
