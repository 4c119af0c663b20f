//! What the kea-api integration tests share.

use std::time::Duration;

use kea_api::ApiConfig;
use kea_secrets::Secret;

/// A server configuration for tests: `public_url` is what webhook signatures cover, and the data
/// API accepts tokens signed with `jwt_secret` (none: every data-API request gets PGRST300).
pub fn config(public_url: &str, twilio_auth_token: &str, jwt_secret: Option<&str>) -> ApiConfig {
    ApiConfig {
        public_url: public_url.to_owned(),
        request_timeout: Duration::from_secs(10),
        twilio_auth_token: Secret::new(twilio_auth_token.to_owned()),
        twilio_account_sid: None,
        twilio_queue: "kea-agents".to_owned(),
        twilio_workflow_sid: None,
        transfer_timeout: Duration::from_secs(90),
        jwt_secret: jwt_secret.map(|s| Secret::new(s.to_owned())),
        data_api_connections: None,
        clock: kea_api::Clock::system(),
        enforce_store_hours: false,
    }
}
