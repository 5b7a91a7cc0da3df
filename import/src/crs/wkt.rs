//! A minimal WKT 1 reader: `NAME[arg, arg, ...]` where an argument is a quoted string, a number
//! or another node. Enough for .prj files; anything else is an error.

#[derive(Debug)]
pub enum Arg {
    Text(String),
    Number(f64),
    Node(Node),
    Word(String),
}

#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub args: Vec<Arg>,
}

impl Node {
    pub fn first_text(&self) -> Option<&str> {
        self.text(0)
    }
    pub fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i)? {
            Arg::Text(s) | Arg::Word(s) => Some(s),
            _ => None,
        }
    }
    pub fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            Arg::Number(n) => Some(*n),
            Arg::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.args.iter().filter_map(move |a| match a {
            Arg::Node(n) if n.name.eq_ignore_ascii_case(name) => Some(n),
            _ => None,
        })
    }
    pub fn child<'a>(&'a self, name: &'a str) -> Option<&'a Node> {
        self.children(name).next()
    }
}

pub fn parse(text: &str) -> Result<Node, String> {
    let chars: Vec<char> = text.trim().trim_start_matches('\u{feff}').chars().collect();
    let mut at = 0;
    let node = node(&chars, &mut at)?;
    Ok(node)
}

fn skip_ws(c: &[char], at: &mut usize) {
    while *at < c.len() && c[*at].is_whitespace() {
        *at += 1;
    }
}

fn word(c: &[char], at: &mut usize) -> String {
    let start = *at;
    while *at < c.len()
        && (c[*at].is_alphanumeric() || c[*at] == '_' || c[*at] == '.' || c[*at] == '-' || c[*at] == '+')
    {
        *at += 1;
    }
    c[start..*at].iter().collect()
}

fn node(c: &[char], at: &mut usize) -> Result<Node, String> {
    skip_ws(c, at);
    let name = word(c, at);
    if name.is_empty() {
        return Err(format!("not WKT: expected a keyword at character {}", *at));
    }
    skip_ws(c, at);
    let close = match c.get(*at) {
        Some('[') => ']',
        Some('(') => ')',
        _ => return Err(format!("not WKT: expected '[' after {name}")),
    };
    *at += 1;
    let mut args = Vec::new();
    loop {
        skip_ws(c, at);
        match c.get(*at) {
            None => return Err(format!("not WKT: {name}[ is never closed")),
            Some(&ch) if ch == close => {
                *at += 1;
                break;
            }
            Some(',') => *at += 1,
            Some('"') => {
                *at += 1;
                let start = *at;
                while *at < c.len() && c[*at] != '"' {
                    *at += 1;
                }
                args.push(Arg::Text(c[start..*at].iter().collect()));
                *at += 1;
            }
            Some(_) => {
                let save = *at;
                let w = word(c, at);
                skip_ws(c, at);
                if matches!(c.get(*at), Some('[') | Some('(')) {
                    *at = save;
                    args.push(Arg::Node(node(c, at)?));
                } else if let Ok(n) = w.parse::<f64>() {
                    args.push(Arg::Number(n));
                } else if w.is_empty() {
                    return Err(format!("not WKT: unexpected {:?} at character {}", c[*at], *at));
                } else {
                    args.push(Arg::Word(w));
                }
            }
        }
    }
    Ok(Node { name, args })
}
