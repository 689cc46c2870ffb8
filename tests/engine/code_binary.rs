//! Binary data in the Code node and the webhook's form upload limit, black-box: a file
//! uploaded to a webhook (kept in the binary data store, or inline in `default` mode) is read
//! by the Code node through n8n's `this.helpers` (`getBinaryDataBuffer`, `assertBinaryData`,
//! `binaryToString`, `prepareBinaryData`) and a small `Buffer`; `N8N_FORMDATA_FILE_SIZE_MAX`
//! bounds the files of a multipart upload (and only those: `N8N_PAYLOAD_SIZE_MAX` does not).
//! The helpers' names, arguments and missing-file messages are n8n 2.8's.

use flowgate::engine::config::BinaryDataMode;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{last_execution, publish, upload};

fn form(boundary: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"note.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// Webhook (answering the last node's first item) → Code running `js`.
fn workflow(path: &str, js: &str) -> Value {
    json!({
        "nodes": [
            {"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "webhookId": format!("{path}-hook"),
             "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode", "options": {}}},
            {"id": "code", "name": "Code", "type": "n8n-nodes-base.code", "typeVersion": 2,
             "position": [200, 0], "parameters": {"jsCode": js}}
        ],
        "connections": {"Webhook": {"main": [[{"node": "Code", "type": "main", "index": 0}]]}}
    })
}

const READ: &str = "const buf = await this.helpers.getBinaryDataBuffer(0, 'doc');\n\
    const meta = await this.helpers.assertBinaryData(0, 'doc');\n\
    return [{ json: {\n\
      text: buf.toString(), hex: buf.subarray(0, 3).toString('hex'), length: buf.length,\n\
      isBuffer: Buffer.isBuffer(buf), base64: buf.toString('base64'),\n\
      asString: await this.helpers.binaryToString(buf, 'utf8'),\n\
      mime: meta.mimeType, fileName: meta.fileName,\n\
      utf8: Buffer.from('héllo €').toString('base64'),\n\
    } }];";

#[tokio::test]
async fn the_code_node_reads_an_uploaded_file_from_the_store_and_inline() {
    let text = "Grüße, n8n!\n";
    for mode in [
        BinaryDataMode::Filesystem,
        BinaryDataMode::Database,
        BinaryDataMode::Default,
    ] {
        let app = TestApp::spawn_with(|c| c.engine.binary_data_mode = Some(mode)).await;
        let id = publish(&app, "read", &workflow("read", READ)).await;
        let answer = upload(
            &app,
            "read",
            form("xYz", text.as_bytes()),
            "multipart/form-data; boundary=xYz",
        )
        .await;
        assert_eq!(answer.status, 200, "{mode:?}: {}", answer.text());
        let body = answer.json();
        assert_eq!(body["text"], text, "{mode:?}");
        assert_eq!(body["asString"], text, "{mode:?}");
        assert_eq!(body["hex"], "4772c3", "{mode:?}");
        assert_eq!(body["length"], text.len(), "{mode:?}");
        assert_eq!(body["isBuffer"], true, "{mode:?}");
        assert_eq!(body["base64"], "R3LDvMOfZSwgbjhuIQo=", "{mode:?}");
        assert_eq!(body["mime"], "text/plain", "{mode:?}");
        assert_eq!(body["fileName"], "note.txt", "{mode:?}");
        assert_eq!(body["utf8"], "aMOpbGxvIOKCrA==", "{mode:?}");
        assert_eq!(last_execution(&app, &id).await["status"], "success");
    }
}

#[tokio::test]
async fn a_missing_file_fails_in_n8ns_words_and_prepared_data_becomes_a_file() {
    let app =
        TestApp::spawn_with(|c| c.engine.binary_data_mode = Some(BinaryDataMode::Filesystem)).await;
    let id = publish(
        &app,
        "missing",
        &workflow(
            "missing",
            "await this.helpers.getBinaryDataBuffer(0, 'other');\nreturn [];",
        ),
    )
    .await;
    let answer = upload(
        &app,
        "missing",
        form("b1", b"hi"),
        "multipart/form-data; boundary=b1",
    )
    .await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    let execution = last_execution(&app, &id).await;
    let error = &execution["data"]["resultData"]["runData"]["Code"][0]["error"];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The item has no binary field 'other' [item 0]")),
        "{error}"
    );

    let js = "const data = await this.helpers.prepareBinaryData(Buffer.from('made here'), 'made.txt', 'text/plain');\n\
              return [{ json: { ok: true }, binary: { made: data } }];";
    let id = publish(&app, "prepare", &workflow("prepare", js)).await;
    let answer = upload(
        &app,
        "prepare",
        form("b2", b"hi"),
        "multipart/form-data; boundary=b2",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let execution = last_execution(&app, &id).await;
    let made = &execution["data"]["resultData"]["runData"]["Code"][0]["data"]["main"][0][0]
        ["binary"]["made"];
    assert_eq!(made["fileName"], "made.txt", "{made}");
    assert_eq!(made["mimeType"], "text/plain", "{made}");
    // Kept in the store like any other file: the execution refers to it.
    assert!(made["id"].as_str().is_some(), "{made}");
}

#[tokio::test]
async fn form_uploads_are_bounded_by_the_formdata_limit_not_the_payload_limit() {
    let app = TestApp::spawn_with(|c| {
        c.engine.binary_data_mode = Some(BinaryDataMode::Filesystem);
        c.engine.formdata_file_size_max_mib = 2;
        c.payload_size_max_mib = 1;
    })
    .await;
    let id = publish(
        &app,
        "form",
        &workflow("form", "return [{ json: { n: $input.all().length } }];"),
    )
    .await;
    let file = vec![b'a'; 1536 * 1024];

    // Over the payload limit, under the form limit: taken.
    let taken = upload(
        &app,
        "form",
        form("f0", &file),
        "multipart/form-data; boundary=f0",
    )
    .await;
    assert_eq!(taken.status, 200, "{}", taken.text());
    assert_eq!(last_execution(&app, &id).await["status"], "success");

    // The same bytes as a plain body: over the payload limit.
    let refused = upload(&app, "form", file.clone(), "application/octet-stream").await;
    assert_eq!(refused.status, 413, "{}", refused.text());

    // Files over the form limit: refused before anything runs, naming the setting.
    let app = TestApp::spawn_with(|c| {
        c.engine.binary_data_mode = Some(BinaryDataMode::Filesystem);
        c.engine.formdata_file_size_max_mib = 1;
        c.payload_size_max_mib = 1;
    })
    .await;
    let id = publish(&app, "form", &workflow("form", "return [];")).await;
    let refused = upload(
        &app,
        "form",
        form("f1", &file),
        "multipart/form-data; boundary=f1",
    )
    .await;
    assert_eq!(refused.status, 413, "{}", refused.text());
    assert!(
        refused.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("N8N_FORMDATA_FILE_SIZE_MAX")),
        "{}",
        refused.text()
    );
    // Far over both: refused while reading.
    let huge = vec![b'a'; 3 * 1024 * 1024];
    let refused = upload(
        &app,
        "form",
        form("f2", &huge),
        "multipart/form-data; boundary=f2",
    )
    .await;
    assert_eq!(refused.status, 413, "{}", refused.text());
    assert!(crate::support::executions(&app, &id).await.is_empty());
}
