//! Why a connection ended, and what the client is told.
//!
//! Every connection ends with exactly one `CloseReason`, logged once and
//! counted. The mapping from reason to `-ERR` text lives only here.

use crate::protocol::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    ClientClosed,
    ServerShutdown,
    ReadError,
    WriteError,
    UnknownOp,
    ProtocolViolation,
    ControlLineTooLong,
    MaxPayload,
    AuthViolation,
    AuthTimeout,
    BadClientProtocol,
    NoRespondersNeedsHeaders,
    StaleConnection,
    SlowConsumer,
    MaxConnections,
    /// A CONNECT over `max_pending_logins` or `max_pending_logins_per_ip`
    /// (see `login_gate`). nats-server has no such cap, so the client is
    /// told its nearest error, `maximum connections exceeded`, which
    /// clients take as "retry later" rather than as bad credentials.
    TooManyLogins,
    MaxAccountConnections,
    /// The subscription limit leaves no room: 0 at login, or lowered by a
    /// reload below what the connection already holds.
    MaxSubscriptions,
    AuthExpired,
    AuthRevoked,
    /// The client did not start TLS in time, or spoke plaintext to a TLS port.
    TlsRequired,
    /// The TLS handshake failed (bad or missing client certificate, or a
    /// client that stalled mid-handshake).
    TlsHandshakeError,
    /// A client dialled the leaf node port.
    WrongPort,
    /// A client dialled the route port.
    WrongRoutePort,
    /// A second route to a server already connected, or a route to this
    /// server itself: closed without a word, as nats-server does.
    DuplicateRoute,
    /// The connection's task ended without closing it: it panicked (or was
    /// dropped). See `cleanup`.
    InternalError,
}

impl CloseReason {
    /// The `-ERR` sent before closing, exactly as nats-server words it.
    pub fn error_text(self) -> Option<&'static str> {
        Some(match self {
            CloseReason::UnknownOp => "Unknown Protocol Operation",
            CloseReason::ControlLineTooLong => "maximum control line exceeded",
            CloseReason::MaxPayload => "Maximum Payload Violation",
            CloseReason::AuthViolation => "Authorization Violation",
            CloseReason::AuthTimeout => "Authentication Timeout",
            CloseReason::BadClientProtocol => "invalid client protocol",
            CloseReason::NoRespondersNeedsHeaders => "no responders requires headers support",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::MaxConnections | CloseReason::TooManyLogins => {
                "maximum connections exceeded"
            }
            CloseReason::MaxAccountConnections => "maximum account active connections exceeded",
            CloseReason::MaxSubscriptions => "maximum subscriptions exceeded",
            CloseReason::AuthExpired => "User Authentication Expired",
            CloseReason::AuthRevoked => "User Authentication Revoked",
            // nats-server composes this one at its TLS timeout; it is sent
            // in plaintext, before any TLS.
            CloseReason::TlsRequired => "Secure Connection - TLS Required",
            CloseReason::WrongPort => "attempted to connect to leaf node port",
            CloseReason::WrongRoutePort => "attempted to connect to route port",
            // nats-server closes these without a word: malformed arguments,
            // slow consumers, and ordinary ends.
            CloseReason::ProtocolViolation
            | CloseReason::SlowConsumer
            | CloseReason::ClientClosed
            | CloseReason::ServerShutdown
            | CloseReason::ReadError
            | CloseReason::WriteError
            | CloseReason::TlsHandshakeError
            | CloseReason::DuplicateRoute
            | CloseReason::InternalError => return None,
        })
    }

    /// Whether queued outbound bytes are still worth sending.
    pub fn flushes(self) -> bool {
        !matches!(
            self,
            CloseReason::SlowConsumer | CloseReason::WriteError | CloseReason::ReadError
        )
    }
}

impl CloseReason {
    /// The reason as nats-server words it in disconnect events.
    pub fn event_text(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "Client Closed",
            CloseReason::ServerShutdown => "Server Shutdown",
            CloseReason::ReadError => "Read Error",
            CloseReason::WriteError => "Write Error",
            CloseReason::UnknownOp
            | CloseReason::ProtocolViolation
            | CloseReason::BadClientProtocol => "Protocol Violation",
            CloseReason::NoRespondersNeedsHeaders => "Protocol Violation",
            CloseReason::ControlLineTooLong => "Maximum Control Line Exceeded",
            CloseReason::MaxPayload => "Maximum Message Payload Exceeded",
            CloseReason::AuthViolation => "Authentication Failure",
            CloseReason::AuthTimeout => "Authentication Timeout",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::SlowConsumer => "Slow Consumer (Pending Bytes)",
            CloseReason::MaxConnections | CloseReason::TooManyLogins => {
                "Maximum Connections Exceeded"
            }
            CloseReason::MaxAccountConnections => "Maximum Account Connections Exceeded",
            CloseReason::MaxSubscriptions => "Maximum Subscriptions Exceeded",
            CloseReason::AuthExpired => "Authentication Expired",
            CloseReason::AuthRevoked => "Authentication Revoked",
            CloseReason::TlsRequired | CloseReason::TlsHandshakeError => "TLS Handshake Failure",
            CloseReason::InternalError => "Internal Error",
            CloseReason::WrongPort | CloseReason::WrongRoutePort => "Wrong Port",
            CloseReason::DuplicateRoute => "Duplicate Route",
        }
    }
}

impl From<ParseError> for CloseReason {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::UnknownOp | ParseError::MissingPayloadTerminator => CloseReason::UnknownOp,
            ParseError::BadArguments { .. } => CloseReason::ProtocolViolation,
            ParseError::ControlLineTooLong => CloseReason::ControlLineTooLong,
            ParseError::MaxPayload { .. } => CloseReason::MaxPayload,
        }
    }
}
