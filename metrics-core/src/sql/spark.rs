//! Runs cxm's SQL on a Spark Connect server (feature `spark`): Apache
//! Spark 3.4 or later, or any server speaking the protocol (Sail,
//! Databricks), at `sc://HOST:PORT`, over TLS with a bearer token when the
//! URL asks for them ([`spark_endpoint`]).
//!
//! The client is the protocol's smallest subset, written here rather than
//! generated: one gRPC method (`SparkConnectService/ExecutePlan`, a server
//! stream) and the few messages it needs, declared with `prost`'s derive
//! macros under the field numbers of Spark's `base.proto`,
//! `relations.proto` and `commands.proto`. Every field cxm does not send
//! or read is left out; protobuf skips unknown fields, so newer servers
//! answer it the same way. The result arrives as Arrow IPC streams (one
//! per `ArrowBatch`), decoded with `arrow-ipc` and converted as the
//! DataFusion engine's result is.
//!
//! Input files are registered as session temporary views
//! (`CreateDataFrameViewCommand` over a `Read.DataSource`), read by the
//! server from their absolute paths: the server must see the same files
//! (a local server, or shared storage). Without input files the SQL names
//! tables the server's catalog already holds (`--table`).

use std::collections::HashMap;

use polars::prelude::DataFrame;

use super::engine::{EngineTable, data_extension, to_frame};
use crate::{Error, Result};

/// The wire messages, with Spark Connect's field numbers.
mod wire {
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ExecutePlanRequest {
        #[prost(string, tag = "1")]
        pub(super) session_id: String,
        #[prost(message, optional, tag = "2")]
        pub(super) user_context: Option<UserContext>,
        #[prost(message, optional, tag = "3")]
        pub(super) plan: Option<Plan>,
        #[prost(string, optional, tag = "4")]
        pub(super) client_type: Option<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct UserContext {
        #[prost(string, tag = "1")]
        pub(super) user_id: String,
        #[prost(string, tag = "2")]
        pub(super) user_name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Plan {
        #[prost(oneof = "Op", tags = "1, 2")]
        pub(super) op: Option<Op>,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(super) enum Op {
        #[prost(message, tag = "1")]
        Root(Relation),
        #[prost(message, tag = "2")]
        Command(Command),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Relation {
        #[prost(oneof = "RelType", tags = "2, 10")]
        pub(super) rel: Option<RelType>,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(super) enum RelType {
        #[prost(message, tag = "2")]
        Read(Read),
        #[prost(message, tag = "10")]
        Sql(Sql),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Sql {
        #[prost(string, tag = "1")]
        pub(super) query: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Read {
        #[prost(message, optional, tag = "2")]
        pub(super) data_source: Option<DataSource>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct DataSource {
        #[prost(string, optional, tag = "1")]
        pub(super) format: Option<String>,
        #[prost(map = "string, string", tag = "3")]
        pub(super) options: HashMap<String, String>,
        #[prost(string, repeated, tag = "4")]
        pub(super) paths: Vec<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Command {
        #[prost(message, optional, tag = "3")]
        pub(super) create_dataframe_view: Option<CreateDataFrameView>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct CreateDataFrameView {
        #[prost(message, optional, tag = "1")]
        pub(super) input: Option<Relation>,
        #[prost(string, tag = "2")]
        pub(super) name: String,
        #[prost(bool, tag = "3")]
        pub(super) is_global: bool,
        #[prost(bool, tag = "4")]
        pub(super) replace: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ExecutePlanResponse {
        #[prost(message, optional, tag = "2")]
        pub(super) arrow_batch: Option<ArrowBatch>,
    }

    /// `ConfigRequest`, with the one operation cxm sends (`Set`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ConfigRequest {
        #[prost(string, tag = "1")]
        pub(super) session_id: String,
        #[prost(message, optional, tag = "2")]
        pub(super) user_context: Option<UserContext>,
        #[prost(message, optional, tag = "3")]
        pub(super) operation: Option<ConfigOperation>,
        #[prost(string, optional, tag = "4")]
        pub(super) client_type: Option<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ConfigOperation {
        #[prost(message, optional, tag = "1")]
        pub(super) set: Option<ConfigSet>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ConfigSet {
        #[prost(message, repeated, tag = "1")]
        pub(super) pairs: Vec<KeyValue>,
        #[prost(bool, optional, tag = "2")]
        pub(super) silent: Option<bool>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct KeyValue {
        #[prost(string, tag = "1")]
        pub(super) key: String,
        #[prost(string, optional, tag = "2")]
        pub(super) value: Option<String>,
    }

    /// `ReleaseSessionRequest`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ReleaseSessionRequest {
        #[prost(string, tag = "1")]
        pub(super) session_id: String,
        #[prost(message, optional, tag = "2")]
        pub(super) user_context: Option<UserContext>,
        #[prost(string, optional, tag = "3")]
        pub(super) client_type: Option<String>,
    }

    /// The reply of `Config` and `ReleaseSession`: nothing cxm reads.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Ignored {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ArrowBatch {
        #[prost(int64, tag = "1")]
        pub(super) row_count: i64,
        #[prost(bytes = "vec", tag = "2")]
        pub(super) data: Vec<u8>,
    }
}

/// The gRPC method plans go to.
const EXECUTE_PLAN: &str = "/spark.connect.SparkConnectService/ExecutePlan";

/// The gRPC method that sets the session's configuration.
const CONFIG: &str = "/spark.connect.SparkConnectService/Config";

/// The gRPC method that ends a session.
const RELEASE_SESSION: &str = "/spark.connect.SparkConnectService/ReleaseSession";

/// Spark Connect's default port, when `sc://HOST` names none.
const DEFAULT_PORT: u16 = 15002;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest reply message read (128 MiB, PySpark's limit).
const MAX_MESSAGE: usize = 128 << 20;

/// An error with its chain of causes (tonic's transport error says only
/// "transport error"; the cause says why).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// A gRPC status as its code and the server's message, as written.
fn status_text(s: &tonic::Status) -> String {
    format!("{} ({:?})", s.message(), s.code())
}

/// A Spark Connect URL, read: `sc://HOST[:PORT][/;param=value;...]` with
/// the parameters of Spark's client connection string. Its `Debug` form
/// hides the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SparkRemote {
    /// `http://HOST:PORT`, or `https://HOST:PORT` with TLS.
    pub endpoint: String,
    /// TLS, checked against the system's roots (`use_ssl=true`, or a
    /// `token`, which implies it; `SSL_CERT_FILE` or `SSL_CERT_DIR`
    /// replace those roots).
    pub tls: bool,
    /// `user_id`: the session's user (default `cxm`).
    pub user_id: Option<String>,
    /// `token`: sent as `authorization: Bearer TOKEN` on every call.
    pub token: Option<String>,
    /// `user_agent`: the client type the server logs (default `cxm/VERSION`).
    pub user_agent: Option<String>,
    /// `session_id`: the session to use (default: a new random UUID).
    pub session_id: Option<String>,
    /// Every other parameter, sent as a gRPC metadata header
    /// (`x-databricks-cluster-id=...`).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for SparkRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkRemote")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls)
            .field("user_id", &self.user_id)
            .field("token", &self.token.as_ref().map(|_| "(hidden)"))
            .field("user_agent", &self.user_agent)
            .field("session_id", &self.session_id)
            .field("headers", &self.headers)
            .finish()
    }
}

/// Reads a Spark Connect URL (`sc://HOST[:PORT][/;param=value;...]`, port
/// 15002 by default). Parameters, as Spark's clients read them: `use_ssl`
/// (`true`/`false`), `token` (implies TLS; with `use_ssl=false` it is
/// refused rather than sent in clear), `user_id`, `user_agent`,
/// `session_id`; any other is a header, whose name must be a valid
/// lower-case gRPC metadata key.
///
/// ```
/// use metrics_core::sql::spark_endpoint;
/// let plain = spark_endpoint("sc://127.0.0.1:15002")?;
/// assert_eq!((plain.endpoint.as_str(), plain.tls), ("http://127.0.0.1:15002", false));
/// assert_eq!(spark_endpoint("sc://spark.internal/;user_id=ana")?.user_id.as_deref(), Some("ana"));
/// let db = spark_endpoint("sc://adb-1.azuredatabricks.net:443/;token=dapi1;x-databricks-cluster-id=0101")?;
/// assert_eq!((db.endpoint.as_str(), db.tls), ("https://adb-1.azuredatabricks.net:443", true));
/// assert_eq!(db.headers, vec![("x-databricks-cluster-id".to_owned(), "0101".to_owned())]);
/// assert!(spark_endpoint("http://localhost:15002").is_err());
/// assert!(spark_endpoint("sc://h:1/;token=t;use_ssl=false").is_err());
/// assert!(spark_endpoint("sc://h:1/;Bad Header=1").is_err());
/// assert_eq!(spark_endpoint("sc://[::1]")?.endpoint, "http://[::1]:15002");
/// assert_eq!(spark_endpoint("sc://[::1]:7077/")?.endpoint, "http://[::1]:7077");
/// # Ok::<(), metrics_core::Error>(())
/// ```
///
/// # Errors
/// A URL that does not start with `sc://`, has no host, a port that is not
/// a number, a `use_ssl` that is not `true` or `false`, a token without
/// TLS, or a parameter that cannot be a header.
pub fn spark_endpoint(remote: &str) -> Result<SparkRemote> {
    // The token is a secret: messages name the URL without its parameters.
    let shown = remote.split(';').next().unwrap_or(remote).trim_end_matches('/');
    let bad = |why: &str| spark_error(&format!("--remote {shown}"), &why);
    let rest = remote.strip_prefix("sc://").ok_or_else(|| bad("expected sc://HOST:PORT"))?;
    let (authority, params) = rest.split_once('/').unwrap_or((rest, ""));
    // A bracketed IPv6 host (`[::1]`) holds colons of its own.
    let (host, port) = match authority.rsplit_once(':').filter(|_| !authority.ends_with(']')) {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("the port is not a number"))?),
        None => (authority, DEFAULT_PORT),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let mut r = SparkRemote {
        endpoint: String::new(),
        tls: false,
        user_id: None,
        token: None,
        user_agent: None,
        session_id: None,
        headers: vec![],
    };
    let mut use_ssl = None;
    for p in params.trim_start_matches(';').split(';').filter(|p| !p.is_empty()) {
        // A parameter without `=` may be a pasted secret: not repeated.
        let Some((key, value)) = p.split_once('=') else {
            return Err(bad("a parameter has no value (expected ;name=value)"));
        };
        let value = (!value.is_empty()).then(|| value.to_owned());
        match key {
            "user_id" => r.user_id = value,
            "token" => r.token = value,
            "user_agent" => r.user_agent = value,
            "session_id" => r.session_id = value,
            "use_ssl" => match value.as_deref() {
                Some("true") => use_ssl = Some(true),
                Some("false") => use_ssl = Some(false),
                _ => return Err(bad("use_ssl is true or false")),
            },
            _ => {
                let header = tonic::metadata::AsciiMetadataKey::from_bytes(key.as_bytes()).is_ok()
                    && key.bytes().all(|b| !b.is_ascii_uppercase());
                let text = value.as_deref().is_some_and(|v| tonic::metadata::AsciiMetadataValue::try_from(v).is_ok());
                if !header || !text {
                    return Err(bad(&format!("the parameter `{key}` cannot be sent as a gRPC header")));
                }
                r.headers.push((key.to_owned(), value.unwrap_or_default()));
            }
        }
    }
    if r.token.is_some() && use_ssl == Some(false) {
        return Err(bad("a token is only sent over TLS (drop use_ssl=false)"));
    }
    if r.token.as_deref().is_some_and(|t| tonic::metadata::AsciiMetadataValue::try_from(format!("Bearer {t}")).is_err())
    {
        return Err(bad("the token is not printable ASCII"));
    }
    r.tls = use_ssl.unwrap_or(false) || r.token.is_some();
    r.endpoint = format!("{}://{host}:{port}", if r.tls { "https" } else { "http" });
    Ok(r)
}

/// Runs `sql` on the Spark Connect server at `remote` (`sc://HOST:PORT`),
/// after registering `tables` as temporary views of the session (Parquet
/// by extension, else CSV with a header, the table's separator and
/// Spark's type inference). Returns the result as a frame, in the query's
/// column and row order. One session, released at the end; for several
/// queries over the same views, [`SparkConnection`].
///
/// # Errors
/// A URL [`spark_endpoint`] refuses, a server that cannot be reached, a
/// view or query the server rejects, a reply that is not Arrow, or a
/// result column of a type cxm does not render.
pub fn run_spark(remote: &str, sql: &str, tables: &[EngineTable]) -> Result<DataFrame> {
    SparkConnection::open(remote, tables)?.query(sql)
}

/// One Spark Connect session in UTC with the input tables registered as
/// its temporary views, for several queries (cxm's usage count, probes and
/// the section's query), released on the server when dropped.
pub struct SparkConnection {
    runtime: tokio::runtime::Runtime,
    grpc: std::cell::RefCell<tonic::client::Grpc<tonic::transport::Channel>>,
    session: Session,
}

impl std::fmt::Debug for SparkConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session's headers may hold the token: not shown.
        f.debug_struct("SparkConnection").field("session_id", &self.session.id).finish_non_exhaustive()
    }
}

impl SparkConnection {
    /// Connects to `remote` (`sc://HOST:PORT[/;name=value...]`), sets the
    /// session's zone to UTC and registers `tables` as temporary views.
    ///
    /// # Errors
    /// As [`run_spark`], before any query.
    pub fn open(remote: &str, tables: &[EngineTable]) -> Result<Self> {
        let r = spark_endpoint(remote)?;
        // The token is a secret: messages name the URL without its parameters.
        let shown = remote.split(';').next().unwrap_or(remote).trim_end_matches('/');
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| spark_error("starting the client", &e))?;
        let session = Session::new(&r)?;
        let grpc = runtime.block_on(async {
            let mut endpoint = tonic::transport::Endpoint::from_shared(r.endpoint.clone())
                .map_err(|e| spark_error(&format!("--remote {shown}"), &e))?
                .connect_timeout(CONNECT_TIMEOUT);
            if r.tls {
                let tls = tonic::transport::ClientTlsConfig::new().with_native_roots();
                endpoint =
                    endpoint.tls_config(tls).map_err(|e| spark_error(&format!("TLS for {shown}"), &causes(&e)))?;
            }
            let channel =
                endpoint.connect().await.map_err(|e| spark_error(&format!("connecting to {shown}"), &causes(&e)))?;
            // Spark caps its Arrow batches near 4 MiB, tonic's default limit;
            // a server set higher still fits (PySpark's limit).
            let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(MAX_MESSAGE);
            // Naive timestamps are UTC, as in cxm's other engines, whatever the
            // server's default zone.
            set_utc(&mut grpc, &session)
                .await
                .map_err(|e| spark_error("setting the session zone", &status_text(&e)))?;
            Ok::<_, crate::Error>(grpc)
        })?;
        // From here a failure still releases the session (Drop).
        let connection = Self { runtime, grpc: std::cell::RefCell::new(grpc), session };
        for t in tables {
            connection.send(view_plan(t)?).map_err(|e| spark_error(&format!("registering {}", t.name), &e))?;
        }
        Ok(connection)
    }

    /// Runs `sql` in the session; the result in the query's column and row
    /// order.
    ///
    /// # Errors
    /// A query the server rejects, a reply that is not Arrow, or a result
    /// column of a type cxm does not render.
    pub fn query(&self, sql: &str) -> Result<DataFrame> {
        let plan =
            wire::Plan { op: Some(wire::Op::Root(relation(wire::RelType::Sql(wire::Sql { query: sql.into() })))) };
        let replies = self.send(plan).map_err(|e| spark_error("running the query", &status_text(&e)))?;
        decode(&replies)
    }

    fn send(&self, plan: wire::Plan) -> std::result::Result<Vec<Vec<u8>>, tonic::Status> {
        let mut grpc = self.grpc.borrow_mut();
        self.runtime.block_on(execute(&mut grpc, &self.session, plan))
    }
}

impl Drop for SparkConnection {
    /// The session and its views end here, not at the server's idle
    /// timeout. A server without the call (Spark 3.4) keeps it until then.
    fn drop(&mut self) {
        let grpc = self.grpc.get_mut();
        let _ = self.runtime.block_on(release(grpc, &self.session));
    }
}

/// `spark.sql.session.timeZone = UTC` for the session.
async fn set_utc(grpc: &mut tonic::client::Grpc<tonic::transport::Channel>, session: &Session) -> Status<()> {
    let pair = wire::KeyValue { key: "spark.sql.session.timeZone".into(), value: Some("UTC".into()) };
    let request = wire::ConfigRequest {
        session_id: session.id.clone(),
        user_context: Some(session.context()),
        operation: Some(wire::ConfigOperation { set: Some(wire::ConfigSet { pairs: vec![pair], silent: None }) }),
        client_type: Some(session.client.clone()),
    };
    unary(grpc, session.request(request), CONFIG).await
}

/// Ends the session on the server (`ReleaseSession`).
async fn release(grpc: &mut tonic::client::Grpc<tonic::transport::Channel>, session: &Session) -> Status<()> {
    let request = wire::ReleaseSessionRequest {
        session_id: session.id.clone(),
        user_context: Some(session.context()),
        client_type: Some(session.client.clone()),
    };
    unary(grpc, session.request(request), RELEASE_SESSION).await
}

/// A gRPC result.
type Status<T> = std::result::Result<T, tonic::Status>;

/// One unary call whose reply cxm does not read.
async fn unary<M: prost::Message + Send + Sync + 'static>(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    request: tonic::Request<M>,
    method: &'static str,
) -> Status<()> {
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<M, wire::Ignored>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(request, path, codec).await.map(|_| ())
}

/// A session: its id (a UUID, as the protocol asks), its user, the client
/// type it names and the headers every call carries (the token's
/// `authorization`, the URL's other parameters).
struct Session {
    id: String,
    user: String,
    client: String,
    headers: tonic::metadata::MetadataMap,
}

impl Session {
    /// A new session for the URL `r`.
    fn new(r: &SparkRemote) -> Result<Self> {
        let mut headers = tonic::metadata::MetadataMap::new();
        let pairs = r.token.iter().map(|t| ("authorization".to_owned(), format!("Bearer {t}")));
        for (k, v) in pairs.chain(r.headers.iter().cloned()) {
            let key = tonic::metadata::AsciiMetadataKey::from_bytes(k.as_bytes())
                .map_err(|e| spark_error(&format!("the header {k}"), &e))?;
            let value = tonic::metadata::AsciiMetadataValue::try_from(v.as_str())
                .map_err(|e| spark_error(&format!("the header {k}"), &e))?;
            headers.insert(key, value);
        }
        Ok(Self {
            id: r.session_id.clone().unwrap_or_else(session_id),
            user: r.user_id.clone().unwrap_or_else(|| "cxm".to_owned()),
            client: r.user_agent.clone().unwrap_or_else(|| format!("cxm/{}", env!("CARGO_PKG_VERSION"))),
            headers,
        })
    }

    /// The user context every request carries.
    fn context(&self) -> wire::UserContext {
        wire::UserContext { user_id: self.user.clone(), user_name: self.user.clone() }
    }

    /// `message` as a call with the session's headers.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.headers.clone();
        request
    }
}

/// A random version-4 UUID, in the protocol's text form.
fn session_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn relation(rel: wire::RelType) -> wire::Relation {
    wire::Relation { rel: Some(rel) }
}

/// The command registering `t` as a temporary view named after it.
fn view_plan(t: &EngineTable) -> Result<wire::Plan> {
    let path = std::fs::canonicalize(&t.path).map_err(|e| spark_error(&t.path.display().to_string(), &e))?;
    let parquet =
        data_extension(&t.path).is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
    let mut options = HashMap::new();
    if !parquet {
        options.insert("header".to_owned(), "true".to_owned());
        options.insert("inferSchema".to_owned(), "true".to_owned());
        options.insert("multiLine".to_owned(), "true".to_owned());
        options.insert("sep".to_owned(), char::from(t.delimiter).to_string());
        // RFC 4180 quoting (`""` inside quotes), not Spark's backslash.
        options.insert("escape".to_owned(), "\"".to_owned());
        // Naive timestamps are UTC, as DataFusion and cxm's default read
        // them, whatever the session's zone.
        options.insert("timeZone".to_owned(), "UTC".to_owned());
    }
    let source = wire::DataSource {
        format: Some(if parquet { "parquet" } else { "csv" }.to_owned()),
        options,
        paths: vec![path.to_string_lossy().into_owned()],
    };
    let read = relation(wire::RelType::Read(wire::Read { data_source: Some(source) }));
    let view = wire::CreateDataFrameView { input: Some(read), name: t.name.clone(), is_global: false, replace: true };
    Ok(wire::Plan { op: Some(wire::Op::Command(wire::Command { create_dataframe_view: Some(view) })) })
}

/// Sends `plan` and reads the reply stream to its end: the Arrow payloads
/// it carries, in order.
async fn execute(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    session: &Session,
    plan: wire::Plan,
) -> std::result::Result<Vec<Vec<u8>>, tonic::Status> {
    let request = wire::ExecutePlanRequest {
        session_id: session.id.clone(),
        user_context: Some(session.context()),
        plan: Some(plan),
        client_type: Some(session.client.clone()),
    };
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<wire::ExecutePlanRequest, wire::ExecutePlanResponse>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(EXECUTE_PLAN);
    let mut stream = grpc.server_streaming(session.request(request), path, codec).await?.into_inner();
    let mut payloads = Vec::new();
    while let Some(reply) = stream.message().await? {
        if let Some(batch) = reply.arrow_batch.filter(|b| !b.data.is_empty()) {
            payloads.push(batch.data);
        }
    }
    Ok(payloads)
}

/// The Arrow IPC streams of the replies as one frame. A query with no row
/// still sends its schema in one stream.
fn decode(payloads: &[Vec<u8>]) -> Result<DataFrame> {
    let mut schema = None;
    let mut batches = Vec::new();
    for p in payloads {
        let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(p.as_slice()), None)
            .map_err(|e| spark_error("reading the result", &e))?;
        schema.get_or_insert_with(|| reader.schema());
        for b in reader {
            batches.push(b.map_err(|e| spark_error("reading the result", &e))?);
        }
    }
    let schema = schema.ok_or_else(|| spark_error("reading the result", &"the server sent no Arrow data"))?;
    to_frame(&schema, &batches).map_err(|e| e.into_error("spark"))
}

fn spark_error(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::from(crate::error::ErrorKind::Engine { engine: "spark".into(), reason: format!("{what}: {e}") })
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn session_ids_are_version_4_uuids() {
        let id = session_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4') && matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, session_id());
    }

    #[test]
    fn a_sql_relation_encodes_as_spark_expects() {
        // Plan.root (1) > Relation.sql (10) > SQL.query (1) = "SELECT 1".
        let plan = wire::Plan {
            op: Some(wire::Op::Root(relation(wire::RelType::Sql(wire::Sql { query: "SELECT 1".into() })))),
        };
        let bytes = plan.encode_to_vec();
        assert_eq!(bytes, [0x0a, 12, 0x52, 10, 0x0a, 8, b'S', b'E', b'L', b'E', b'C', b'T', b' ', b'1']);
    }

    #[test]
    fn a_token_and_other_parameters_are_headers_of_every_call() {
        let r = spark_endpoint("sc://h:443/;token=dapi-1;x-databricks-cluster-id=0101;user_agent=etl").unwrap();
        let session = Session::new(&r).unwrap();
        let request = session.request(());
        let header = |k: &str| request.metadata().get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("authorization").as_deref(), Some("Bearer dapi-1"));
        assert_eq!(header("x-databricks-cluster-id").as_deref(), Some("0101"));
        assert_eq!(session.client, "etl");
        assert!(r.tls && r.endpoint.starts_with("https://"));
        // The message of a refused URL does not repeat its token.
        let e = spark_endpoint("sc://h:1/;token=secret;use_ssl=false").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn an_unreachable_server_is_an_engine_error() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = run_spark(&format!("sc://127.0.0.1:{port}"), "SELECT 1", &[]).unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Engine { engine, .. } if engine == "spark"), "{e}");
    }
}
