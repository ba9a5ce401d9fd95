//! Subject mappings and their destination functions.

use super::{issues, only_issue, tenant};

fn mapping(body: &str) -> Vec<String> {
    issues(&[("a", &tenant("a", &format!("[[mappings]]\n{body}\n")))])
}

fn to(source: &str, dest: &str) -> Vec<String> {
    mapping(&format!("source = \"{source}\"\nto = \"{dest}\""))
}

#[test]
fn valid_mappings_pass() {
    assert_eq!(
        to("a.*.*", "b.{{wildcard(2)}}.{{ wildcard( 1 ) }}"),
        Vec::<String>::new()
    );
    assert_eq!(
        to("a.*.*", "b.{{partition(4,1,2)}}.{{Partition( 3 )}}"),
        Vec::<String>::new()
    );
    assert_eq!(to("a.>", "b"), Vec::<String>::new());
}

#[test]
fn the_source_must_be_valid() {
    assert_eq!(
        to("a..b", "c"),
        [
            "tenants/a.toml: mappings[0].source: `a..b` is not a valid subject: it has an empty token"
        ]
    );
}

#[test]
fn a_mapping_has_to_or_destinations() {
    let both =
        mapping("source = \"a\"\nto = \"b\"\ndestinations = [{ subject = \"c\", weight = 10 }]");
    assert_eq!(
        both,
        ["tenants/a.toml: mappings[0]: set either `to` or `destinations`, not both"]
    );
    let neither = only_issue(&[(
        "a",
        &tenant("a", "[[mappings]]\nsource = \"a\"\ndestinations = []\n"),
    )]);
    assert_eq!(
        neither,
        "tenants/a.toml: mappings[0]: needs `to` or a non-empty `destinations`"
    );
}

#[test]
fn weights_are_percentages_adding_up_to_at_most_100() {
    let zero = mapping("source = \"a\"\ndestinations = [{ subject = \"b\", weight = 0 }]");
    assert_eq!(
        zero,
        ["tenants/a.toml: mappings[0].destinations[0].weight: 0 is not a percentage from 1 to 100"]
    );
    let over = mapping(
        "source = \"a\"\ndestinations = [{ subject = \"b\", weight = 60 }, { subject = \"c\", weight = 50 }]",
    );
    assert_eq!(
        over,
        ["tenants/a.toml: mappings[0].destinations: weights add up to 110, more than 100"]
    );
}

#[test]
fn only_wildcard_and_partition_functions_exist() {
    let found = to("a.*", "b.{{split(1,-)}}");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("tenants/a.toml: mappings[0].to: unknown mapping function `split`"),
        "{found:?}"
    );
}

#[test]
fn wildcard_indexes_refer_to_existing_star_tokens() {
    let found = to("a.*.>", "b.{{wildcard(2)}}");
    assert_eq!(
        found,
        ["tenants/a.toml: mappings[0].to: wildcard 2 does not exist: the source has 1 `*` token"]
    );
    assert!(to("a.*", "b.{{wildcard(0)}}")[0].ends_with("wildcard positions start at 1"));
    assert!(to("a.*", "b.{{wildcard(1, 2)}}")[0].contains("wildcard takes one argument"));
    let weighted = mapping(
        "source = \"a.*\"\ndestinations = [{ subject = \"b.{{wildcard(3)}}\", weight = 50 }]",
    );
    assert!(weighted[0].contains("mappings[0].destinations[0].subject: wildcard 3 does not exist"));
}

#[test]
fn partition_needs_a_count_and_valid_indexes() {
    assert!(
        to("a.*", "b.{{partition(0, 1)}}")[0]
            .ends_with("partition count `0` must be a number >= 1")
    );
    assert!(to("a.*", "b.{{partition()}}")[0].contains("partition needs a partition count"));
    assert!(to("a.*", "b.{{partition(3, 2)}}")[0].contains("wildcard 2 does not exist"));
    assert!(to("a.*", "b.{{partition(3, x)}}")[0].contains("`x` is not a wildcard position"));
}

#[test]
fn destinations_are_literal_apart_from_functions() {
    assert_eq!(
        to("a.*", "b.*.{{wildcard(1)}}"),
        [
            "tenants/a.toml: mappings[0].to: `b.*.{{wildcard(1)}}` is not a valid destination: apart from mapping functions it must be a literal subject"
        ]
    );
    assert!(to("a.*", "b..{{wildcard(1)}}")[0].contains("is not a valid destination"));
    assert!(to("a.*", "b.{{wildcard(1)")[0].contains("`{{` is never closed by `}}`"));
    assert!(to("a.*", "b.{{wildcard 1}}")[0].contains("is not a function call"));
}
