//! What a user JWT says about when and how its user may connect, in
//! operator mode: `times` windows (with `times_location`),
//! `allowed_connection_types`, and revocation at the exact second.

use crate::common;

use common::operator::{Operator, creds_client, now, raw_login};
use jiff::Timestamp;
use jiff::civil::Time;
use std::time::Duration;
use switchyard::auth::jwt::TimeRange;

const VIOLATION: &str = "-ERR 'Authorization Violation'\r\n";

/// A fixed-offset zone in which it is now between 02:00 and 21:00, so that
/// windows of a few hours around now do not cross midnight there (one of
/// three zones eight hours apart always is).
fn daytime_zone() -> (&'static str, Time) {
    for zone in ["Etc/UTC", "Etc/GMT-8", "Etc/GMT+8"] {
        let time = Timestamp::now().in_tz(zone).expect("zone").time();
        if (2..21).contains(&time.hour()) {
            return (zone, time);
        }
    }
    unreachable!("one of three zones 8h apart is between 02:00 and 21:00")
}

fn hms(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

fn window(start: Time, end: Time) -> TimeRange {
    TimeRange {
        start: hms(start),
        end: hms(end),
    }
}

#[tokio::test]
async fn connect_times_admit_inside_the_window_and_expire_when_it_closes() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (zone, now_there) = daytime_zone();
    let closes = now_there + jiff::SignedDuration::from_secs(3);
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.times = vec![window(Time::midnight(), closes)];
        u.nats.limits.times_location = zone.into();
    });
    let (mut raw, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    // nats-server ends the connection when the window closes, as for an
    // expired JWT.
    let (rest, closed) = raw.read_for(Duration::from_secs(6)).await;
    assert!(
        String::from_utf8_lossy(&rest).ends_with("-ERR 'User Authentication Expired'\r\n"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(closed);
}

#[tokio::test]
async fn connect_times_refuse_outside_the_window_and_unknown_zones() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    let (zone, now_there) = daytime_zone();
    let hour = jiff::SignedDuration::from_hours(1);
    let later = window(now_there + hour, now_there + hour * 2);
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.times = vec![later.clone()];
        u.nats.limits.times_location = zone.into();
    });
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, VIOLATION);
    // A second window that includes now admits the same user.
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.times = vec![later.clone(), window(Time::midnight(), now_there + hour)];
        u.nats.limits.times_location = zone.into();
    });
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert!(answer.starts_with("PONG\r\n"), "{answer}");
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.times = vec![window(Time::midnight(), now_there + hour)];
        u.nats.limits.times_location = "Mars/Olympus_Mons".into();
    });
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, VIOLATION);
}

#[tokio::test]
async fn connection_types_must_include_standard() {
    let op = Operator::new();
    let server = common::start_with(op.config()).await;
    for (types, admitted) in [
        (vec!["WEBSOCKET"], false),
        (vec!["MQTT", "LEAFNODE"], false),
        (vec!["SOMETHING_NEW"], false),
        (vec!["WEBSOCKET", "STANDARD"], true),
        (vec!["standard"], true),
    ] {
        let (user, jwt) = op.user(&op.app, |u| {
            u.nats.limits.allowed_connection_types = types.iter().map(|t| t.to_string()).collect()
        });
        let (_, answer) = raw_login(&server, &user, &jwt).await;
        if admitted {
            assert!(answer.starts_with("PONG\r\n"), "{types:?}: {answer}");
        } else {
            assert_eq!(answer, VIOLATION, "{types:?}");
        }
    }
    // And with a real client and a .creds file.
    let (user, jwt) = op.user(&op.app, |u| {
        u.nats.limits.allowed_connection_types = vec!["STANDARD".into()]
    });
    let client = creds_client(&server, &op.creds("std", &user, &jwt)).await;
    client.flush().await.expect("connected");
}

/// nats-io/jwt v2 (`RevocationList.IsRevoked`: `ts >= iat`) and nats-server
/// (`isRevoked`: not revoked only when `t < issuedAt`) agree: a revocation
/// at the JWT's issue second revokes it, one a second earlier does not.
#[tokio::test]
async fn revocation_applies_at_the_issue_second_and_not_before() {
    use switchyard::auth::jwt::{UserClaims, encode_at};
    let op = Operator::new();
    let issued = now() - 60;
    let user = nkeys::KeyPair::new_user();
    let jwt = encode_at(&UserClaims::new(user.public_key()), &op.app, issued).expect("jwt");
    let other = nkeys::KeyPair::new_user();
    let other_jwt = encode_at(&UserClaims::new(other.public_key()), &op.app, issued).expect("jwt");
    op.write_account("APP", &op.app, |a| {
        a.nats.revocations.insert(user.public_key(), issued);
        a.nats.revocations.insert(other.public_key(), issued - 1);
    });
    let server = common::start_with(op.config()).await;
    let (_, answer) = raw_login(&server, &user, &jwt).await;
    assert_eq!(answer, VIOLATION, "revoked at its issue second");
    let (_, answer) = raw_login(&server, &other, &other_jwt).await;
    assert!(
        answer.starts_with("PONG\r\n"),
        "revoked a second before: {answer}"
    );
}
