//! HTTP Digest authentication (RFC 7616 with MD5, as n8n's `httpDigestAuth` speaks it): the
//! answer to a server's `WWW-Authenticate: Digest` challenge.

use md5::{Digest, Md5};

fn md5_hex(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parameters of a `Digest` challenge (`realm="x", nonce="y", qop="auth"`).
fn challenge_params(challenge: &str) -> Option<Vec<(String, String)>> {
    let rest = challenge.trim();
    let rest = rest
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("digest"))
        .map(|_| &rest[6..])?;
    let mut params = Vec::new();
    let text = rest.trim_start();
    let mut start = 0;
    while start < text.len() {
        let eq = text[start..].find('=')? + start;
        let name = text[start..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = &text[eq + 1..];
        let (value, consumed) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_owned(), end + 2)
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), end)
        };
        params.push((name, value));
        start = eq + 1 + consumed;
        while text[start..].starts_with([',', ' ']) {
            start += 1;
        }
    }
    Some(params)
}

/// The `Authorization` header answering `challenge` for `method` on `uri` (path and query).
/// `None` when the challenge is not a Digest challenge this supports.
pub fn authorization(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    cnonce: &str,
) -> Option<String> {
    let params = challenge_params(challenge)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let realm = get("realm").unwrap_or("");
    let nonce = get("nonce")?;
    let algorithm = get("algorithm").unwrap_or("MD5");
    let session = algorithm.eq_ignore_ascii_case("MD5-sess");
    if !session && !algorithm.eq_ignore_ascii_case("MD5") {
        return None;
    }
    let qop = get("qop").map(|q| {
        q.split(',')
            .map(str::trim)
            .any(|q| q == "auth")
            .then_some("auth")
    });
    if qop == Some(None) {
        return None;
    }
    let qop = qop.flatten();
    let nc = "00000001";
    let mut ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    if session {
        ha1 = md5_hex(&format!("{ha1}:{nonce}:{cnonce}"));
    }
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let response = match qop {
        Some(qop) => md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")),
        None => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
    };
    let mut header = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={algorithm}, response=\"{response}\""
    );
    if let Some(qop) = qop {
        header.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = get("opaque") {
        header.push_str(&format!(", opaque=\"{opaque}\""));
    }
    Some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_2617_example_is_answered() {
        let challenge = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
        let header = authorization(
            challenge,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
        )
        .expect("answered");
        assert!(
            header.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{header}"
        );
        assert!(header.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
        assert!(header.contains("qop=auth, nc=00000001, cnonce=\"0a4f113b\""));
    }

    #[test]
    fn other_schemes_are_not_answered() {
        assert!(authorization("Basic realm=\"x\"", "GET", "/", "u", "p", "c").is_none());
        assert!(authorization("Digest realm=\"x\"", "GET", "/", "u", "p", "c").is_none());
    }
}
