use thiserror::Error;

/// Why a byte stream is not valid protocol. Each variant maps to exactly one
/// client-visible outcome in the server (see `server::close`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The operation name is not one the protocol defines.
    #[error("unknown protocol operation")]
    UnknownOp,
    /// A known operation with the wrong number or shape of arguments.
    #[error("malformed arguments for {op}")]
    BadArguments { op: &'static str },
    /// The control line grew past the configured limit without a line end.
    #[error("maximum control line exceeded")]
    ControlLineTooLong,
    /// A PUB/HPUB announced more bytes than the connection may send.
    #[error("maximum payload exceeded: {size} > {max}")]
    MaxPayload { size: usize, max: usize },
    /// The payload was not followed by exactly CRLF.
    #[error("payload not terminated by CRLF")]
    MissingPayloadTerminator,
}
