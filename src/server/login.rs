//! A client connection's side of logging in: CONNECT options checked, the
//! credentials check started on the login pool (`crate::login`), the
//! session bound when it ends, and all of it re-checked after a reload.

use super::connection::Connection;
use super::subs::{shadows_for, unindex};
use super::subscribe::sub_violation;
use crate::client::{ClientMeta, CloseReason, DeliveryFilter};
use crate::login::{AuthFailure, Checked, Credentials, PendingLogin, Session};
use crate::protocol::ConnectOptions;
use crate::tenant::Tenancy;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl Connection {
    /// A CONNECT: its options checked, then the login started (or, if
    /// it is done at once or not needed, the CONNECT accepted).
    pub(super) fn on_connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let Some(opts) = ConnectOptions::from_json(json) else {
            return Err(CloseReason::ProtocolViolation);
        };
        if !(0..=1).contains(&opts.protocol) {
            return Err(CloseReason::BadClientProtocol);
        }
        if opts.no_responders && !opts.headers {
            return Err(CloseReason::NoRespondersNeedsHeaders);
        }
        self.estimate_rtt();
        if !self.phase.connected
            && let Some(pending) = self.start_login(&opts)?
        {
            // Accepted once the check ends (`finish_pending_login`).
            self.login.pending = Some(pending);
            return Ok(());
        }
        self.accept_connect(opts);
        Ok(())
    }

    /// Starts checking the CONNECT credentials; `None` when there is
    /// nothing to wait for. The server-wide authorization (constant-time
    /// compares) is checked here; tenant users, JWTs and auth plugins on
    /// the login pool, if the server and this address have room for one
    /// more login.
    fn start_login(
        &mut self,
        opts: &ConnectOptions,
    ) -> Result<Option<Box<PendingLogin>>, CloseReason> {
        let tenancy = self.server.tenancy();
        if tenancy.users.is_none() {
            if !self.server.authorize(opts) {
                self.server.stats.auth_failed(AuthFailure::Credentials);
                tracing::info!(cid = self.handle.id, peer = %self.peer, "authorization failed");
                return Err(CloseReason::AuthViolation);
            }
            return Ok(None);
        }
        let ticket = self.server.logins.admit(self.peer.ip()).map_err(|busy| {
            self.server.stats.auth_failed(AuthFailure::Busy);
            tracing::warn!(cid = self.handle.id, peer = %self.peer, ?busy, "too many logins in progress; refused");
            CloseReason::TooManyLogins
        })?;
        let credentials = self.credentials(tenancy.clone(), opts.clone());
        Ok(Some(Box::new(PendingLogin {
            opts: opts.clone(),
            tenancy,
            check: Box::pin(ticket.run(move || credentials.check())),
        })))
    }

    fn credentials(&self, tenancy: Arc<Tenancy>, opts: ConnectOptions) -> Credentials {
        Credentials {
            tenancy,
            opts,
            nonce: self.login.nonce.clone(),
            peer: self.peer,
            tls_peer: self.login.tls_peer.clone(),
        }
    }

    /// Takes a CONNECT whose login (if any) succeeded: its options apply
    /// from here on.
    pub(super) fn accept_connect(&mut self, opts: ConnectOptions) {
        self.handle.set_headers(opts.headers);
        self.handle.set_async_info(opts.protocol >= 1);
        self.delivery.echo = opts.echo;
        self.opts = opts;
        self.handle.set_meta(ClientMeta {
            name: self.opts.name.clone(),
            lang: self.opts.lang.clone(),
            version: self.opts.version.clone(),
            account: self.session.account.name.clone(),
            user: self.session.user().map(str::to_string),
        });
        if !self.phase.connected {
            self.phase.connected = true;
            self.session
                .account
                .traffic
                .total_connections
                .fetch_add(1, Ordering::Relaxed);
            self.emit_client_event(None);
        }
        self.ok();
    }

    /// Ends a pending login: binds on success, then accepts its CONNECT.
    pub(super) fn finish_pending_login(
        &mut self,
        pending: Box<PendingLogin>,
        checked: Checked,
    ) -> Result<(), CloseReason> {
        let max_payload = self.server.config.max_payload;
        let session = Session::bind(&pending.tenancy, checked, max_payload).map_err(|refused| {
            if let Some(failure) = refused.failure {
                self.server.stats.auth_failed(failure);
            }
            tracing::info!(cid = self.handle.id, peer = %self.peer, reason = ?refused.reason, "login refused");
            refused.reason
        })?;
        if let Some(identity) = &session.identity {
            tracing::debug!(cid = self.handle.id, tenant = %identity.tenant, user = %identity.user, "logged in");
        }
        self.session = session;
        self.session_changed();
        self.accept_connect(pending.opts);
        Ok(())
    }

    /// After a reload: logs in again with the same credentials. A removed
    /// user or tenant is disconnected; otherwise the new rules apply and
    /// stream-import shadows are rebuilt. A client an auth plugin let in
    /// keeps its grant while that plugin is unchanged, and is asked about
    /// again (through the new plugins) only if it changed.
    pub(super) fn on_reload(&mut self) -> Result<(), CloseReason> {
        let Some(old) = self.session.identity.clone() else {
            return Ok(());
        };
        let tenancy = self.server.tenancy();
        if tenancy.users.is_none() {
            return Err(CloseReason::AuthViolation);
        }
        let credentials = self.credentials(tenancy.clone(), self.opts.clone());
        let grant = credentials.recheck(&old, self.session.auth_plugin.as_ref());
        let max_payload = self.server.config.max_payload;
        self.session
            .rebind(&tenancy, grant, max_payload, self.subs.len())
            .inspect_err(|reason| {
                tracing::info!(
                    cid = self.handle.id,
                    ?reason,
                    "login no longer valid after reload"
                );
            })?;
        self.session_changed();
        self.refresh_subscriptions();
        Ok(())
    }

    /// Makes the session's limits and permissions those the connection's
    /// parser, handle and delivery apply.
    fn session_changed(&mut self) {
        self.reader_limits(self.session.max_payload);
        self.delivery.max_payload = self.session.max_payload;
        let filter = self
            .session
            .perms
            .clone()
            .map(|p| p as Arc<dyn DeliveryFilter>);
        let responses = self
            .session
            .perms
            .as_ref()
            .and_then(|p| p.response_permission());
        self.handle.set_permissions(filter, responses);
    }

    /// Drops subscriptions the current permissions refuse (with the
    /// nats-server error) and rebuilds the import shadows of the rest.
    fn refresh_subscriptions(&mut self) {
        let sids: Vec<_> = self.subs.keys().cloned().collect();
        let account = self.session.account.clone();
        for sid in sids {
            let Some(mut entry) = self.subs.remove(&sid) else {
                continue;
            };
            if let Some(p) = &self.session.perms {
                let sub = &entry.sub;
                if !p.can_subscribe(&sub.subject, sub.queue.as_deref()) {
                    self.send_err(&sub_violation(&sub.subject, sub.queue.as_deref()));
                    unindex(&account, &entry);
                    continue;
                }
                let filter = p.sub_needs_delivery_filter(&sub.subject);
                sub.needs_filter.store(filter, Ordering::Relaxed);
            } else {
                entry.sub.needs_filter.store(false, Ordering::Relaxed);
            }
            for shadow in std::mem::take(&mut entry.shadows) {
                shadow.remove_shadow();
            }
            entry.shadows = shadows_for(&account, &self.session.rules, &entry.sub);
            self.subs.insert(sid, entry);
        }
    }
}
