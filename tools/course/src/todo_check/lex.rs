//! 一个很小的 Rust 词法分析:够用来找名字、路径、调用和字符串。

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Ident(String),
    /// 字符串字面量的内容(转义已经还原)。
    Str(String),
    Punct(char),
}

pub(super) fn lex(code: &str) -> Vec<Tok> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            i = find(&chars, i, '\n').unwrap_or(chars.len());
        } else if c == '/' && next == Some('*') {
            i = (i + 2..chars.len())
                .find(|&j| chars[j] == '*' && chars.get(j + 1) == Some(&'/'))
                .map_or(chars.len(), |j| j + 2);
        } else if c == '"' {
            let (text, end) = string(&chars, i + 1);
            out.push(Tok::Str(text));
            i = end;
        } else if c == 'r' && matches!(next, Some('"' | '#')) {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            let open = i + 1 + hashes;
            let closing: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let rest: String = chars[open + 1..].iter().collect();
            let len = rest.find(&closing).unwrap_or(rest.len());
            out.push(Tok::Str(rest[..len].to_owned()));
            i = open + 1 + rest[..len].chars().count() + closing.chars().count();
        } else if c == 'b' && matches!(next, Some('"' | '\'')) {
            i += 1; // b"…" 和 b'…':当作普通的字符串和字符处理。
        } else if c == '\'' {
            i = char_or_lifetime(&chars, i);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let word: String = chars[i..].iter().take_while(|c| is_word(**c)).collect();
            i += word.chars().count();
            out.push(Tok::Ident(word));
        } else if c.is_ascii_digit() {
            i += chars[i..].iter().take_while(|c| is_word(**c)).count();
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// 读一个字符串字面量的内容(从左引号后面开始),返回内容和右引号后面的位置。
pub(super) fn string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut text = String::new();
    while i < chars.len() {
        match chars[i] {
            '"' => return (text, i + 1),
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some('0') => text.push('\0'),
                    Some('\n') => {
                        // 行尾的 \:换行和下一行开头的空白都不算。
                        while chars.get(i + 1).is_some_and(|c| c.is_whitespace()) {
                            i += 1;
                        }
                    }
                    Some('u') => {
                        let end = find(chars, i, '}').unwrap_or(i);
                        let hex: String = chars[(i + 2).min(end)..end].iter().collect();
                        if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            text.push(c);
                        }
                        i = end;
                    }
                    Some(c) => text.push(*c),
                    None => {}
                }
                i += 1;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    (text, i)
}

/// `'a'`、`'\n'` 是字符,`'buf` 是生命周期:都跳过,返回后面的位置。
pub(super) fn char_or_lifetime(chars: &[char], i: usize) -> usize {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => find(chars, i + 2, '\'').map_or(chars.len(), |end| end + 1),
        (Some(_), Some('\'')) => i + 3,
        _ => i + 1 + chars[i + 1..].iter().take_while(|c| is_word(**c)).count(),
    }
}

pub(super) fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `chars[from..]` 里第一个 `wanted` 的位置。
pub(super) fn find(chars: &[char], from: usize, wanted: char) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i] == wanted)
}
