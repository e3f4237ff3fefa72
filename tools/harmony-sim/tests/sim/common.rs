//! Helpers shared by the integration tests: they speak HTTP to the simulator
//! the way a Push Kit v3 client would.

#![allow(dead_code)]

use harmony_sim::{
    send_path, sign_jwt, JwtAlg, ServiceAccount, SimApp, SimConfig, Simulator, AUDIENCE,
};
use serde_json::{json, Value};

pub const PROJECT: &str = "388421841221892";
pub const KEY_ID: &str = "kid-a";
pub const SUB: &str = "1001001";
pub const OTHER_PROJECT: &str = "388421841221893";
pub const OTHER_KEY_ID: &str = "kid-b";
pub const OTHER_SUB: &str = "1001002";

/// 2024-06-01 12:00 UTC+8.
pub const NOON: i64 = 1_717_214_400_000;

/// A 2048-bit RSA test key (PKCS#8), generated for these tests only.
pub const KEY_A: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC2tWf+qbPeSRF0
BwSbeR7xFxmIeg7aEbLR0sE/H7LkyOdWzHSWEHROoEypMNhDqUMorvcuY8WenFD8
klbkpbu4/43WJsmdBXEzGOr/xNTtYj8rtuOCPC0PNmLMpPnlzWEw3xp9N9O5imzF
fDpYeBKz4qOLHxtZxQwo932TiXByoOdX8GdC2u3oJg2U26BTw0O4n8Op8xruRC4L
k3tPEzUeAEc99nRdhk6awsGhjf5uof5izaEabTbJCs4mktfuyTkqPkLnN2XUuB9J
yx0OkrsRT2pUwgtu+LbadVK637Cxx1y/u7rv4S1KU2qixDRFSOjXRnaWy60thhQz
6olKSeM/AgMBAAECggEAUc5Mh2Y1blgZ8/D2e6RSGdFlcclw3+vfvHnYY6qOP0jC
6Aa4Rr6MTO4SFQkVM8pUEyGv8/nhMGC+FDBzroGUWUM3HwUT7XXT1vSXt7hKPBVq
wmhrWlMWO8L2nrlZWK7KDwc9xYYbCu6zQAMc3qK4gQl/f1mItft3s9oIRGhbzD6C
32X/n8WIO2TviT+Q120VywLwety089zUILXxTlxm/UKmgRHXzPcAHHgsYgtuoWrQ
pY9O+RZATY0mNA2fRRh3V2v2lwY0wFmXZIpaN3JQZDl0MvDCFjkX1NexiJK7dTzm
/rAIPrKx8UhZlo7nSzZeCwKyO+q/2eO2LwC7DqwROQKBgQD0wX1puXzAxIGpJcuw
58SGSAd9w7AESsnNru5infB3ACsIxlH+Q/l6b4aVJcmugNp6kyURAQsuSv+uUCnC
deVB2CUhWETCVj7ywY70djZUhwsmUnbM/aJyCPMlGAW+lR6u1Z8T2VJ4ZfimoU4X
6WO+VVP11u8WCA2CXJhUUHrfVwKBgQC/GjH35fuvExCLBz9FsRDK/Nx70SpKl0QY
HtMDFE6KKGjwWlWrXgzfuXNvN7t+rdTB+zOZ2FU+kAdmuGVvL6cY+bgHtEWc0cqR
ry/G0Mapzt8DP/G3Js77PjVEMLtDJbu8Rhmkto5r/gydbYmVp9InV3404MdGVRrV
8fCGfd7yWQKBgQC4odWXkaM4T4R4MtjLZKrtmRx9lMcNFdXR4SpXHkmtm2TbQ6/K
nUBvSf4+OLlBeFZXrPSDNURX8Z+awUIfPYxp9UFdPBbyetkVi0npw9sMPKr+h6qy
zIpkd7fjvZFnyVnSDbfo40HBLTs7h+c/RoJFrFyf0TmeZwi51FvdDrECFQKBgEfj
Bbr4E5ZHOKjj4ARKWEPTnOkixKLshhwAtGXrJKRKETeg86sUJQmfzHGg6HH92BPk
eAO+Ykq3iWE1qkqKBXSas4SKZslYDbiByxoh/SlxfWjOjBHWknPmcckl/7uBnT50
rD7OwYKUPZCW3POj/qT3/6zKhYvKhd7HNTCSduR5AoGAHRKr8/FRIswVlC8zTMHv
cjDITILTTD/IvvQc3Ub5IKEntXEXRBSL3uagp9XtdaP3p+WhANUpzTXaNQpyiPdR
Bs9Sf8SLlnDXkgDrtK0+S1MLG0AhtNxJ2d43Igrhmw5Nu7p9B+ELL9t4+Wz5fVgN
FxRCyMfl9tI5K8osl9ZZzrE=
-----END PRIVATE KEY-----
";

/// A second 2048-bit RSA test key, for the other project.
pub const KEY_B: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDOVWrSwZmQ7ZaT
/KdWn6CuYJ2uoIVjGRtsaBxT6UU39xaOJUlPACNdy1LeJCBQhbp343pZeoB6zVSt
dbr9yxAHR637Rahpg2dAGDwj9uR34Tt/NgrQGbIwV4JpFVPIUhx55sz9yi0P36YB
GK07v9UnSMPJOPkbfsUwAfbGs3N7j+ovl9jWZ6plFmBg8XtCpjcTIwMf5Jxwoulu
BzwskCgZsWSg7SgZa7SFyoNHjF6hlV62OSsy1xM/HnMmpD04pKE0nNIWJuMpmCM6
Kw9YK5EIyROWniCG7zTPP4EJRDcr1ancbi8a6/Sd9hqoB+y+4jJndShD97n4syak
7S1W7JKDAgMBAAECggEAXwZytI6J8XeiRhRxYtEQWM7RP/fYhoutGA+YoEKJ6Nzo
a92bNgF7yDoYN4tOwJbeClHe6q+i1SuUaHCUhkbLYnbuFw99IN7uIdQnem69yMIX
ux4B+9YhvObIfine1J6QU8nqNaWzfCCFnPKm8aIHAlkeJiGRhEqteM8mvlst/8Sy
+wBOZ9K1uNz84YITbnQOeqfLpZFVb5yIlhaV4R2GRn0mLcbEA2S6TrVxLySKiUg2
K32Vg/tkLboI/GJHN2mKoZruQVIebkQ3gQL+6ojE69Ut608W5iZvhFOo6ko+eCeV
ogf597e4uDa55LEUV1cQNPp0/SlsiqtW8q9rLDjhGQKBgQD4zIimTDgy7tIqRxVg
JkzII1V37mnonKhgxH0wQlwSsg2ptecYeIjKrGlOpwDyMjcSN+8clUlpVTUq5Jlr
r+uf2C1cKPihnvzBAjkdPjAC9k4NTFblP5P9Kk9V8xx0aN6Wix6UQ/JXEMBeZ3k+
K5NN+X88Jhs7fkIK2uILSx//uwKBgQDUTj0PF/CPvHA1UQVogZ8SviGr530yMH08
V7KQZvDgETycrVP3szwM8nVFIKwMC7xMTP7ajdIPIBHPeGMBqX1bbWk7ZFMfviDG
DQX1f4hrhnRpMh4x9aLdi3l39hA1hB6Hsc1wnJ1oIllWJ2rvdQd4sJ8XQPWfq7es
9DUTjckX2QKBgB7ACNOk7/07jzYyeu3bTfoeg93C1cwuMJFlN6PTT9Xvs8iZ9uoL
W7zQ+mMCORe2JSBXUXJS8TPXmC6o+l1Y7OJgsZqGZdRz9gFU6QI4QW7cSmFSYhsL
dJsBs7SHy6iHnZs1rp3cmAMyytPgLhgFArvMbnFctFjyDe+RhganTlkpAoGALSK5
DnVrelN4k403FiHAnO55IB/l2P7AEU0ftF1+RlTDyxd6a4XadXIyhlDM4v63uI0B
/Zr7FqYdwzr36YmMEhzvq2XH2k7EjvaD1s6XRSzfoOG706lCR9F4MI3KomYFS5n8
cD2LpXDwB0X4ERKTVRBPslToI1sRgJ6mjhKttvkCgYBXEnZar2eiY/2wn+70fpuP
TotSkMOA/0qFQJ5z5/Mu1URyDfoe3RjmOQyO6bIinXXR5soEO8DzKVBYJIu6vHQ1
BFISkYig3s4D3A2o3uxCqdg1wjSxB3HsUYG1yKennq4spZdU4grSUXICRyEo/GNM
Ez4u3m68CIQbSgGVXTMqhQ==
-----END PRIVATE KEY-----
";

pub fn account() -> ServiceAccount {
    ServiceAccount::new(KEY_ID, SUB, KEY_A)
}

pub fn app() -> SimApp {
    SimApp::new(PROJECT, account())
}

pub async fn start() -> Simulator {
    start_with(app()).await
}

/// A simulator with `app` and the other project.
pub async fn start_with(app: SimApp) -> Simulator {
    Simulator::start(SimConfig {
        apps: vec![
            app,
            SimApp::new(
                OTHER_PROJECT,
                ServiceAccount::new(OTHER_KEY_ID, OTHER_SUB, KEY_B),
            ),
        ],
    })
    .await
    .expect("simulator starts")
}

/// Seconds now by the simulator's clock.
pub fn now_s(sim: &Simulator) -> i64 {
    sim.now_ms().div_euclid(1000)
}

/// Claims that Push Kit accepts at `now_s`.
pub fn claims(now_s: i64) -> Value {
    json!({ "iss": SUB, "aud": AUDIENCE, "iat": now_s, "exp": now_s + 3600 })
}

/// A PS256 JWT with key A.
pub fn jwt_with(claims: &Value) -> String {
    sign_jwt(KEY_A, KEY_ID, JwtAlg::Ps256, claims).unwrap()
}

/// A fresh JWT for [`PROJECT`].
pub fn jwt(sim: &Simulator) -> String {
    jwt_with(&claims(now_s(sim)))
}

/// A raw call: method, path, headers, body; the status and the body text.
pub async fn raw(
    sim: &Simulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    sim_kit::testing::raw_call(&sim.base_url(), method, path, headers, body).await
}

pub fn parse(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// POSTs `body` to a project's send path with this bearer value and
/// push-type 0.
pub async fn post(sim: &Simulator, project: &str, bearer: &str, body: &Value) -> (u16, Value) {
    post_with(sim, project, bearer, &[("push-type", "0")], body).await
}

/// [`post`] with other headers than `push-type: 0`.
pub async fn post_with(
    sim: &Simulator,
    project: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Value) {
    let auth = format!("Bearer {bearer}");
    let mut all = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json; charset=UTF-8"),
    ];
    all.extend_from_slice(headers);
    let (status, text) = raw(sim, "POST", &send_path(project), &all, body.to_string()).await;
    (status, parse(text))
}

/// Sends to [`PROJECT`] with a fresh JWT; the HTTP status and answer.
pub async fn send(sim: &Simulator, body: &Value) -> (u16, Value) {
    let bearer = jwt(sim);
    post(sim, PROJECT, &bearer, body).await
}

/// The `code` of an answer; every answer carries `msg` and `requestId`.
pub fn code_of(answer: &Value) -> String {
    assert!(answer["msg"].is_string(), "{answer}");
    assert!(answer["requestId"].is_string(), "{answer}");
    answer["code"]
        .as_str()
        .expect("code is a string")
        .to_owned()
}

/// The `code` of [`send`].
pub async fn code(sim: &Simulator, body: &Value) -> String {
    code_of(&send(sim, body).await.1)
}

/// The `msg` of an answer parsed as JSON.
pub fn msg_json(answer: &Value) -> Value {
    serde_json::from_str(answer["msg"].as_str().unwrap()).unwrap()
}

/// An Alert to `tokens` that Push Kit accepts.
pub fn message(tokens: &[&str]) -> Value {
    json!({
        "payload": {
            "notification": {
                "category": "IM",
                "title": "Alice",
                "body": "Hi, are you free tonight?",
                "clickAction": {"actionType": 0, "data": {"conv": "c2c_alice"}},
                "notifyId": 12345,
            },
        },
        "target": {"token": tokens},
        "pushOptions": {"ttl": 86400, "biTag": "push-1"},
    })
}

/// `body` with the JSON pointer `pointer` (an object member) set to `value`,
/// or removed when `value` is `None`.
pub fn set(mut body: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let parent = body.pointer_mut(parent).expect("parent exists");
    let object = parent.as_object_mut().expect("parent is an object");
    match value {
        Some(value) => object.insert(name.to_owned(), value),
        None => object.remove(name),
    };
    body
}

/// A `/_sim/*` call: a POST of `body` when given, else a GET.
pub async fn control(sim: &Simulator, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    sim_kit::testing::control_call(&sim.base_url(), path_and_query, body).await
}

/// `n` tokens `<prefix>-0..`.
pub fn tokens(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
