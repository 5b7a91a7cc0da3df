//! The API definition as OpenAPI 3.0, for clients and OGC API – Features' `oas30` conformance
//! class. utoipa writes OpenAPI 3.1; the document uses only a little of what 3.1 adds, and
//! each such piece has a 3.0 spelling: `type: [T, "null"]` is `type: T, nullable: true`, a
//! license `identifier` (SPDX) has no 3.0 field and is dropped (its name says the same),
//! `examples` in a schema becomes the first `example`, `const` a one-value `enum`.

use serde_json::{Map, Value};

/// The 3.0.3 document equivalent to a 3.1 one.
pub fn from_31(mut doc: Value) -> Value {
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), "3.0.3".into());
        root.remove("jsonSchemaDialect");
        root.remove("webhooks");
        if let Some(license) = root
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_object_mut)
        {
            license.remove("identifier");
        }
        if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
            components.remove("pathItems");
        }
    }
    schemas(&mut doc, false);
    doc
}

/// Walks the document; `in_schema` when `v` is a JSON Schema (under `schema`, `schemas`,
/// `properties`, `items` and the combinators).
fn schemas(v: &mut Value, in_schema: bool) {
    match v {
        Value::Object(o) => {
            if in_schema {
                schema(o);
            }
            for (k, child) in o.iter_mut() {
                let child_in_schema = match k.as_str() {
                    "schema" | "items" | "not" | "additionalProperties" => true,
                    "schemas" | "properties" => {
                        // A map of names to schemas.
                        if let Value::Object(m) = child {
                            m.values_mut().for_each(|s| schemas(s, true));
                        }
                        continue;
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        if let Value::Array(a) = child {
                            a.iter_mut().for_each(|s| schemas(s, true));
                        }
                        continue;
                    }
                    // Literal values: not schemas, whatever keys they hold.
                    "example" | "examples" => continue,
                    "default" | "enum" if in_schema => continue,
                    _ => false,
                };
                schemas(child, child_in_schema);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| schemas(x, in_schema)),
        _ => {}
    }
}

fn schema(o: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = o.get("type").cloned() {
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        match rest.len() {
            0 => {
                o.remove("type");
            }
            1 => {
                o.insert("type".into(), rest[0].clone());
            }
            // Several types: one branch each.
            _ => {
                o.remove("type");
                o.insert(
                    "anyOf".into(),
                    Value::Array(rest.into_iter().map(|t| serde_json::json!({ "type": t })).collect()),
                );
            }
        }
        if nullable {
            o.insert("nullable".into(), true.into());
        }
    }
    // oneOf/anyOf [X, {"type": "null"}]: X, nullable.
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = o.get(key)
            && branches.iter().any(|b| b.get("type") == Some(&Value::from("null")))
        {
            let rest: Vec<Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&Value::from("null")))
                .cloned()
                .collect();
            o.insert("nullable".into(), true.into());
            if rest.len() == 1 && rest[0].get("$ref").is_some() {
                // A $ref cannot carry nullable in 3.0: wrap it.
                o.insert("allOf".into(), Value::Array(rest));
                o.remove(key);
            } else {
                o.insert(key.into(), Value::Array(rest));
            }
        }
    }
    if let Some(Value::Array(examples)) = o.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        o.insert("example".into(), first);
    }
    if let Some(c) = o.remove("const") {
        o.insert("enum".into(), Value::Array(vec![c]));
    }
    for (bound, flag) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(n @ Value::Number(_)) = o.get(bound).cloned() {
            o.insert(flag.into(), n);
            o.insert(bound.into(), true.into());
        }
    }
    o.remove("contentMediaType");
    o.remove("contentEncoding");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_types_refs_and_license() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}},
            "paths": {},
            "components": {"schemas": {
                "A": {"type": "object", "properties": {
                    "n": {"type": ["integer", "null"], "format": "int32", "minimum": 0},
                    "r": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/B"}]},
                    "e": {"type": "string", "examples": ["x", "y"], "enum": ["x", "y"]},
                    "c": {"const": "k"},
                    "x": {"type": "number", "exclusiveMinimum": 0}
                }},
                "B": {"type": "string"}
            }}
        });
        let v = from_31(doc);
        assert_eq!(v["openapi"], "3.0.3");
        assert_eq!(v["info"]["license"], json!({"name": "MIT"}));
        let p = &v["components"]["schemas"]["A"]["properties"];
        assert_eq!(
            p["n"],
            json!({"type": "integer", "format": "int32", "minimum": 0, "nullable": true})
        );
        assert_eq!(
            p["r"],
            json!({"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true})
        );
        assert_eq!(p["e"], json!({"type": "string", "example": "x", "enum": ["x", "y"]}));
        assert_eq!(p["c"], json!({"enum": ["k"]}));
        assert_eq!(
            p["x"],
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})
        );
    }
}
