//! The monitoring listener: a small HTTP/1.1 responder on tokio, enough
//! for `GET` from browsers, curl, Prometheus and NATS tooling. One request
//! per connection (`Connection: close`), a bounded request head, a read
//! deadline and a cap on concurrent requests keep a misbehaving client from
//! holding resources. A full HTTP stack (hyper) would add a dependency tree
//! for features these read-only endpoints do not need.

use super::error::{MonitorError, RequestError};
use super::observer::Observer;
use super::query::Query;
use super::{accountz, connz, healthz, leafz, metrics, routez, subsz, varz};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// Largest request head read; the endpoints take short query strings only.
const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its request head.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Requests served at once; more wait for a slot.
const MAX_CONCURRENT: usize = 32;

/// An answer: status, content type and body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

impl Response {
    pub fn json(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: JSON,
            body,
        }
    }

    fn text(status: u16, body: impl Into<String>) -> Response {
        let mut body = body.into().into_bytes();
        body.push(b'\n');
        Response {
            status,
            content_type: TEXT,
            body,
        }
    }

    fn bad_request(e: &RequestError) -> Response {
        Response::text(400, e.to_string())
    }
}

/// The monitoring listener, bound but not yet serving: binding comes
/// first so a taken port fails `Server::start` before anything runs.
pub struct MonitorListener {
    listener: TcpListener,
    addr: SocketAddr,
}

/// Binds `host:port` (0 picks a free port).
pub async fn bind(host: &str, port: u16) -> Result<MonitorListener, MonitorError> {
    let addr = format!("{host}:{port}");
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| MonitorError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| MonitorError::Bind { addr, source })?;
    Ok(MonitorListener {
        listener,
        addr: local,
    })
}

impl MonitorListener {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves requests until `shutdown` changes.
    pub fn serve(self, observer: Arc<dyn Observer>, shutdown: watch::Receiver<bool>) {
        tracing::info!(addr = %self.addr, "monitoring endpoints listening");
        tokio::spawn(accept_loop(self.listener, observer, shutdown));
    }
}

async fn accept_loop(
    listener: TcpListener,
    observer: Arc<dyn Observer>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "monitoring accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let observer = observer.clone();
        tokio::spawn(async move {
            handle(stream, &*observer).await;
            drop(slot);
        });
    }
}

async fn handle(mut stream: TcpStream, observer: &dyn Observer) {
    let head = match tokio::time::timeout(READ_DEADLINE, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            let _ = write(
                &mut stream,
                &Response::text(431, "request head too large"),
                false,
            )
            .await;
            return;
        }
        Ok(Err(_)) | Err(_) => return,
    };
    let (response, head_only) = match parse_request_line(&head) {
        Ok(req) => (respond(&req, observer), req.method == "HEAD"),
        Err(resp) => (resp, false),
    };
    let _ = write(&mut stream, &response, head_only).await;
}

/// Reads up to the blank line ending the head; `None` if it is too large.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(head));
        }
    }
}

pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The `Accept` header, for `/metrics`' format.
    pub accept: Option<String>,
}

/// The value of header `name` (ASCII case-insensitive) in a request head
/// already bounded by `MAX_HEAD`.
fn header(head: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(head).ok()?;
    text.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

fn parse_request_line(head: &[u8]) -> Result<Request, Response> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..line_end])
        .map_err(|_| Response::text(400, "request line is not UTF-8"))?
        .trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Response::text(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Response::text(505, "only HTTP/1.x is supported"));
    }
    if method != "GET" && method != "HEAD" {
        return Err(Response::text(
            405,
            format!("method {method} not allowed; use GET"),
        ));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        accept: header(head, "accept"),
    })
}

/// Routes a request to its endpoint. Paths match with or without a
/// trailing slash, as nats-server's do.
pub fn respond(req: &Request, observer: &dyn Observer) -> Response {
    let path = match req.path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let query = match Query::parse(&req.query) {
        Ok(q) => q,
        Err(e) => return Response::bad_request(&e),
    };
    const KNOWN: [&str; 10] = [
        "/",
        "/varz",
        "/connz",
        "/subsz",
        "/subscriptionsz",
        "/accountz",
        "/leafz",
        "/routez",
        "/healthz",
        "/metrics",
    ];
    if !KNOWN.contains(&path) {
        return Response::text(404, format!("no endpoint at {}", req.path));
    }
    observer.count_http_request(path);
    let answer = match path {
        "/" => Ok(Response::text(200, INDEX)),
        "/varz" => Ok(Response::json(varz::render(observer))),
        "/connz" => connz::Options::from_query(&query)
            .and_then(|o| connz::render(observer, &o))
            .map(Response::json),
        "/subsz" | "/subscriptionsz" => subsz::Options::from_query(&query)
            .and_then(|o| subsz::render(observer, &o))
            .map(Response::json),
        "/accountz" => accountz::render(observer, query.text("acc")).map(Response::json),
        "/routez" => routez::Options::from_query(&query)
            .map(|o| routez::render(observer, &o))
            .map(Response::json),
        "/leafz" => leafz::Options::from_query(&query)
            .and_then(|o| leafz::render(observer, &o))
            .map(Response::json),
        "/healthz" => {
            let (body, healthy) = healthz::render(observer);
            Ok(Response {
                status: if healthy { 200 } else { 503 },
                ..Response::json(body)
            })
        }
        "/metrics" => {
            let format = metrics::Format::negotiate(req.accept.as_deref());
            Ok(Response {
                status: 200,
                content_type: format.content_type(),
                body: metrics::render(observer, format).into_bytes(),
            })
        }
        _ => Ok(Response::text(404, format!("no endpoint at {}", req.path))),
    };
    answer.unwrap_or_else(|e| Response::bad_request(&e))
}

const INDEX: &str =
    "switchyard monitoring: /varz /connz /subsz /accountz /leafz /routez /healthz /metrics";

async fn write(stream: &mut TcpStream, r: &Response, head_only: bool) -> std::io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n",
        r.status,
        r.content_type,
        r.body.len()
    );
    if r.status == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(&r.body);
    }
    tokio::time::timeout(READ_DEADLINE, stream.write_all(&bytes))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_lines() {
        let r = parse_request_line(b"GET /connz?limit=2 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap_or_else(|_| panic!("valid request line"));
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("GET", "/connz", "limit=2")
        );
        assert_eq!(r.accept, None);
        let r = parse_request_line(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nACCEPT:  application/openmetrics-text \r\n\r\n",
        )
        .unwrap_or_else(|_| panic!("valid request line"));
        assert_eq!(r.accept.as_deref(), Some("application/openmetrics-text"));
        assert_eq!(
            parse_request_line(b"POST /varz HTTP/1.1\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(405)
        );
        assert_eq!(
            parse_request_line(b"GET /varz\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(400)
        );
        assert_eq!(
            parse_request_line(b"GET /varz SPDY/3\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(505)
        );
    }
}
