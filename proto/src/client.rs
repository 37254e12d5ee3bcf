//! What every caller of the coordinator shares: the access file, the bearer token on every
//! request, and a channel to the coordinator (plain or TLS).

use std::path::Path;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Where the coordinator is and how to prove who you are. Written by the coordinator with mode
/// 0600; `worker`, `submit`, `status`… read it with `--access FILE`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Access {
    /// `http://host:port` or `https://host:port`.
    pub address: String,
    /// Token for clients (and workers, unless `worker_token` is set).
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read access file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("access file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("cannot write access file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("bad coordinator address {address:?}: {message}")]
    Address { address: String, message: String },
    #[error("the token contains characters not allowed in a header")]
    Token,
}

impl Access {
    pub fn read(path: &Path) -> Result<Access, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| ClientError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Writes the file readable by its owner only: it holds a secret.
    pub fn write(&self, path: &Path) -> Result<(), ClientError> {
        let err = |source| ClientError::Write {
            path: path.display().to_string(),
            source,
        };
        let body = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        // Write to a private temporary file, then rename: a reader never sees half a file and
        // the secret is never world-readable, not even for a moment.
        let tmp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(err)?;
        std::io::Write::write_all(&mut f, body.as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    pub fn worker_token(&self) -> &str {
        self.worker_token.as_deref().unwrap_or(&self.token)
    }
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Bearer {
    pub fn new(token: &str) -> Result<Bearer, ClientError> {
        format!("Bearer {token}")
            .parse()
            .map(Bearer)
            .map_err(|_| ClientError::Token)
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;
pub type WorkerClient = crate::v1::worker_client::WorkerClient<Authed>;
pub type ClientClient = crate::v1::client_client::ClientClient<Authed>;

/// Largest message either side accepts (a task result's time series can be large).
pub const MAX_MESSAGE_BYTES: usize = 512 << 20;

/// A channel that connects on first use and reconnects after failures, so a caller can start
/// before the coordinator. `ca_pem` enables TLS, verifying the server against that CA.
pub fn channel(address: &str, ca_pem: Option<&[u8]>) -> Result<Channel, ClientError> {
    let bad = |message: String| ClientError::Address {
        address: address.to_string(),
        message,
    };
    let mut endpoint = Endpoint::from_shared(address.to_string())
        .map_err(|e| bad(e.to_string()))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(std::time::Duration::from_secs(30));
    if let Some(ca) = ca_pem {
        endpoint = endpoint
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)))
            .map_err(|e| bad(e.to_string()))?;
    }
    Ok(endpoint.connect_lazy())
}

pub fn worker_client(channel: Channel, token: &str) -> Result<WorkerClient, ClientError> {
    Ok(
        crate::v1::worker_client::WorkerClient::with_interceptor(channel, Bearer::new(token)?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
    )
}

pub fn client_client(channel: Channel, token: &str) -> Result<ClientClient, ClientError> {
    Ok(
        crate::v1::client_client::ClientClient::with_interceptor(channel, Bearer::new(token)?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
    )
}
