//! Requests a client connection's server answers itself instead of
//! delivering them: `$SYS.REQ.USER.INFO` from anyone, and account claims
//! updates and monitoring (`$SYS.REQ.SERVER.*`) from the system account.

use super::claims;
use super::connection::Connection;
use std::sync::Arc;

impl Connection {
    /// Answers a request the server handles itself, publishing the answer
    /// to `reply`; false when `subject` is not one (then it is delivered).
    pub(super) fn answered_by_server(
        &self,
        subject: &[u8],
        reply: Option<&[u8]>,
        payload: &[u8],
    ) -> bool {
        let answer = if subject == crate::monitor::USER_INFO_SUBJECT {
            // nats-server answers it in every account, through the system
            // account's service import; nobody else receives it.
            Some(self.user_info())
        } else if subject.starts_with(crate::monitor::SYSTEM_REQUEST_PREFIX)
            && self.is_system_account()
        {
            match self.answer_system_request(subject, payload) {
                Some(answer) => answer,
                None => return false,
            }
        } else {
            return false;
        };
        // `None`: a statsz request whose filter leaves this server out;
        // answered by silence, as nats-server does.
        if let (Some(reply), Some(answer)) = (reply, answer) {
            self.server.publish(&self.session.account, reply, &answer);
        }
        // A request to every server also goes to the cluster's other
        // servers, each of which answers once.
        let everyone = subject.starts_with(b"$SYS.REQ.SERVER.PING");
        !everyone || self.server.cluster.routes.lock().is_empty()
    }

    /// Requests the server answers itself for system-account clients:
    /// account claims updates and monitoring (`$SYS.REQ.SERVER.*`);
    /// `None` for other subjects, `Some(None)` for one to answer with
    /// silence.
    fn answer_system_request(&self, subject: &[u8], payload: &[u8]) -> Option<Option<Vec<u8>>> {
        if let Some(request) = claims::request(subject) {
            return claims::answer(&self.server, request, payload).map(Some);
        }
        let kind = crate::monitor::server_request(subject, &self.server.info.server_id)?;
        Some(crate::monitor::answer_system_request(
            &super::observe::ServerView::new(self.server.clone()),
            kind,
            payload,
        ))
    }

    /// The answer to `$SYS.REQ.USER.INFO`: this connection's user and
    /// account.
    fn user_info(&self) -> Vec<u8> {
        let identity = self.session.identity.as_ref();
        let who = crate::monitor::UserInfo {
            user: identity.map_or("", |i| &i.user),
            account: &self.session.account.name,
            permissions: identity.and_then(|i| i.permissions.as_ref()),
            responses: self
                .session
                .perms
                .as_ref()
                .and_then(|p| p.response_permission()),
            expires: self
                .session
                .expires
                .map(|at| at.saturating_duration_since(tokio::time::Instant::now())),
        };
        crate::monitor::answer_user_info(
            &super::observe::ServerView::new(self.server.clone()),
            &who,
        )
    }

    fn is_system_account(&self) -> bool {
        Arc::ptr_eq(&self.session.account, &self.server.tenancy().system)
    }
}
