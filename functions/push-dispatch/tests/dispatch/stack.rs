//! A handler's future stays small whatever its routes hold: a push's state
//! lives on the heap, so awaiting a handler (the Lambda runtime, the local
//! runner, a test on a default 2 MiB thread) cannot overflow the stack.
//! Before the route future was boxed, an unoptimised push future needed
//! hundreds of KiB and a test awaiting a dozen pushes overflowed its thread.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn a_handler_future_is_a_few_kib_at_most() {
    let env = TestEnv::new("stack").await;
    let body = json!({"to": ["alice"], "desc": "hi"});
    let fut = push_dispatch::handle(
        &env.ctx,
        request(
            "POST",
            "/v1/push",
            Some(&env.app.admin_token()),
            Some(&body),
        ),
    );
    let size = std::mem::size_of_val(&fut);
    assert!(size <= 4096, "the handler's future holds {size} bytes");
    let (s, _) = read(fut.await);
    assert_eq!(s, 200);
}
