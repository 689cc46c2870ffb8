//! n8n's rules for the names people give tags and credentials, with its messages.

/// A tag name: 1 to 24 characters after trimming.
pub fn tag(raw: &str) -> Result<&str, &'static str> {
    let name = raw.trim();
    if (1..=24).contains(&name.chars().count()) {
        Ok(name)
    } else {
        Err("Tag name must be 1 to 24 characters long.")
    }
}

/// A credential name: 1 to 128 characters after trimming.
pub fn credential(raw: &str) -> Result<&str, &'static str> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err("request/body/name must NOT have fewer than 1 characters"),
        n if n > 128 => Err("request/body/name must NOT have more than 128 characters"),
        _ => Ok(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_trimmed_and_limited_to_24_characters() {
        assert_eq!(tag("  Prod  "), Ok("Prod"));
        assert!(tag("   ").is_err());
        assert!(tag(&"x".repeat(25)).is_err());
        assert!(tag(&"é".repeat(24)).is_ok());
    }

    #[test]
    fn credential_names_are_trimmed_and_limited_to_128_characters() {
        assert_eq!(credential(" api "), Ok("api"));
        assert!(credential("").is_err());
        assert!(credential(&"x".repeat(129)).is_err());
    }
}
