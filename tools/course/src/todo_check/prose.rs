//! TODO 的文字:去掉 `//` 以后的中文说明,以及里面提到的代码。

use std::collections::BTreeSet;

use super::lex::{find, is_word};

/// 一步的 TODO:注释的文字(去掉 `//`),以及里面提到的代码。
pub(super) struct Todo {
    pub(super) chars: Vec<char>,
    pub(super) mentions: Vec<Mention>,
    /// 让学员写一个不跟在调用后面的 `?`(比如「再用 ? 交给 main」;「不能用 ?」不算)。
    pub(super) bare_question_mark: bool,
}

/// TODO 里提到的一段代码:`a::b`、`x.method`、`foo(参数)`、`mac!`。
#[derive(Debug)]
pub(super) struct Mention {
    pub(super) path: Vec<String>,
    /// 前面是 `x.`:一个方法或字段。
    pub(super) method: bool,
    pub(super) macro_call: bool,
    /// 写出了括号时,括号里的文字。
    pub(super) args: Option<String>,
    /// 括号后面紧跟着 `?`。
    pub(super) tried: bool,
    /// 在 `chars` 里的位置:名字的开头,和整个提及(含括号)的结尾。
    pub(super) start: usize,
    pub(super) end: usize,
}

/// TODO 让某个调用发出的话。
pub(super) enum Message {
    Text(String),
    Constant(String),
}

impl Todo {
    pub(super) fn parse(lines: &[String]) -> Todo {
        let text: Vec<String> = lines
            .iter()
            .filter_map(|line| line.trim().strip_prefix("//"))
            .map(|line| line.trim().to_owned())
            .collect();
        let chars: Vec<char> = text.join("\n").chars().collect();
        let mut mentions = Vec::new();
        let mut bare = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if let Some(close) = closing_quote(c) {
                i = find(&chars, i + 1, close).map_or(chars.len(), |end| end + 1);
                continue;
            }
            if c == '?' {
                let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
                if before != Some(&')') {
                    bare.push(i);
                }
            }
            // `\n` 里的 n 不是名字。
            let starts_word = i == 0 || !(is_word(chars[i - 1]) || chars[i - 1] == '\\');
            if !(starts_word && (c.is_ascii_alphabetic() || c == '_')) {
                i += 1;
                continue;
            }
            let mention = Mention::read(&chars, i);
            i = mention.start + mention.path.iter().map(|p| p.len() + 2).sum::<usize>() - 2;
            mentions.push(mention);
        }
        let mut todo = Todo {
            chars,
            mentions,
            bare_question_mark: false,
        };
        todo.bare_question_mark = bare
            .into_iter()
            .any(|at| !todo.negated(&todo.clause_before(at)));
        todo
    }

    /// `at` 所在的那一小句里、它前面的文字:从上一个标点(或者一条新的「- 」)到它。
    pub(super) fn clause_before(&self, at: usize) -> String {
        let mut start = at;
        while start > 0 {
            let c = self.chars[start - 1];
            // 半角和全角的逗号、分号、冒号、左括号,还有句号。
            if matches!(
                c,
                ',' | ';'
                    | ':'
                    | '('
                    | '\u{ff0c}'
                    | '\u{ff1b}'
                    | '\u{ff1a}'
                    | '\u{ff08}'
                    | '\u{3002}'
            ) {
                break;
            }
            if c == '\n' && self.chars.get(start) == Some(&'-') {
                break;
            }
            start -= 1;
        }
        self.chars[start..at].iter().collect()
    }

    /// 这一小句说的是「不要…」「不能用…」「…会…」。
    fn negated(&self, before: &str) -> bool {
        const NOT: [&str; 11] = [
            "不要",
            "不需要",
            "不必",
            "不用",
            "不能用",
            "不会",
            "千万别",
            "别用",
            "别在",
            "不是用",
            "而不是",
        ];
        NOT.iter().any(|word| before.contains(word)) || before.contains('会')
    }

    /// 这个提及不是在让学员写它:
    /// - 反面例子:「不要用 X」「千万别…X」「X 会 panic」「也不会 panic」;
    /// - 拿来比较:「和 X 一样」;
    /// - 说明别的东西:「take 返回 Take::Done」「超时会变成 LineError::TimedOut」、
    ///   类型 `io::Result<…>`,以及括号里的旁白「(最多等 WELCOME_TIMEOUT)」(旁白里说「用 X」的除外)。
    pub(super) fn is_not_an_instruction(&self, mention: &Mention) -> bool {
        let before = self.clause_before(mention.start);
        if self.negated(&before) {
            return true;
        }
        let after: String = self.chars[mention.end..].iter().take(8).collect();
        let after = after.trim_start();
        if after.starts_with('会') || after.starts_with("一样") || after.starts_with('<') {
            return true;
        }
        // 「X 返回 Y」:Y 说的是 X 的结果。
        let returned_by_code = before.strip_suffix("返回 ").is_some_and(|rest| {
            rest.trim_end()
                .chars()
                .last()
                .is_some_and(|c| is_word(c) || c == ')')
        });
        returned_by_code || self.in_aside(mention)
    }

    /// 提及在一段有汉字的括号旁白里,而旁白没有说「用」它。
    pub(super) fn in_aside(&self, mention: &Mention) -> bool {
        let mut depth = 0usize;
        for open in (0..mention.start).rev() {
            match self.chars[open] {
                ')' => depth += 1,
                '(' if depth > 0 => depth -= 1,
                '(' => {
                    let Some(close) = matching_paren(&self.chars, open) else {
                        return false;
                    };
                    let before: String = self.chars[open + 1..mention.start].iter().collect();
                    return close >= mention.end
                        && is_aside(&self.chars, open, close)
                        && !before.contains('用');
                }
                _ => {}
            }
        }
        false
    }

    /// 提及后面说要发出的话:括号里的「…」/"…",或者紧跟在后面(中间最多隔几个字)的
    /// 「…」或常量,比如「tell 他一个「…」」「tell HELP」。
    pub(super) fn message_after(&self, mention: &Mention) -> Option<Message> {
        if let Some(args) = &mention.args {
            let chars: Vec<char> = args.chars().collect();
            return last_quoted(&chars).map(Message::Text);
        }
        let mut i = mention.end;
        while self.chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let mut skipped = 0;
        while let Some(&c) = self.chars.get(i) {
            if closing_quote(c).is_some() || c.is_ascii() || skipped == 4 {
                break;
            }
            i += 1;
            skipped += 1;
        }
        let c = *self.chars.get(i)?;
        if let Some(close) = closing_quote(c) {
            let end = find(&self.chars, i + 1, close)?;
            return Some(Message::Text(unwrapped(&self.chars[i + 1..end])));
        }
        if c.is_ascii_uppercase() {
            let word: String = self.chars[i..]
                .iter()
                .take_while(|c| is_word(**c))
                .collect();
            if word.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                return Some(Message::Constant(word));
            }
        }
        None
    }
}

impl Mention {
    /// 从 `start` 读一个名字,连同 `::` 后面的部分、括号和 `?`。
    pub(super) fn read(chars: &[char], start: usize) -> Mention {
        let word_at =
            |at: usize| -> String { chars[at..].iter().take_while(|c| is_word(**c)).collect() };
        let mut path = vec![word_at(start)];
        let mut end = start + path[0].len();
        while chars.get(end) == Some(&':')
            && chars.get(end + 1) == Some(&':')
            && chars
                .get(end + 2)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
        {
            let word = word_at(end + 2);
            end += 2 + word.len();
            path.push(word);
        }
        let method = start >= 2
            && chars[start - 1] == '.'
            && (is_word(chars[start - 2]) || chars[start - 2] == ')');
        let macro_call = chars.get(end) == Some(&'!');
        let open = if macro_call { end + 1 } else { end };
        let mut args = None;
        let mut tried = false;
        let mut whole = if macro_call { end + 1 } else { end };
        if chars.get(open) == Some(&'(')
            && let Some(close) = matching_paren(chars, open)
            && !is_aside(chars, open, close)
        {
            args = Some(unwrapped(&chars[open + 1..close]));
            tried = chars.get(close + 1) == Some(&'?');
            whole = close + 1;
        }
        Mention {
            path,
            method,
            macro_call,
            args,
            tried,
            start,
            end: whole,
        }
    }

    pub(super) fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    pub(super) fn shown(&self) -> String {
        let path = self.path.join("::");
        match (self.method, self.macro_call) {
            (true, _) => format!(".{path}"),
            (_, true) => format!("{path}!"),
            _ => path,
        }
    }

    /// 这是不是在说代码(而不是普通的英文词,比如 UDP、EOF、Ctrl)?
    pub(super) fn is_api(&self, consts: &BTreeSet<String>) -> bool {
        let name = self.name();
        self.path.len() >= 2
            || self.method
            || self.macro_call
            || self.args.is_some()
            || (name.contains('_') && !name.chars().any(|c| c.is_ascii_uppercase()))
            || consts.contains(name)
    }

    /// 写出来的参数有几个;写了「…」(省略)就不数。
    pub(super) fn arg_count(&self) -> Option<usize> {
        let args = self.args.as_deref()?;
        if args.contains('…') || args.contains("...") || self.macro_call {
            return None;
        }
        Some(count_args(&args.chars().collect::<Vec<_>>()))
    }
}

/// `chars[open]` 到 `chars[close]` 这对括号是一句旁白(`read_line(第 8 步)`、`(最多等 …)`),
/// 不是一次调用的参数。调用的参数里也可以有汉字的占位词,但那是 `f(id, 昵称, outbox)`:
/// 紧跟在名字后面,用逗号分开。
pub(super) fn is_aside(chars: &[char], open: usize, close: usize) -> bool {
    let inside = &chars[open + 1..close];
    let called = open > 0 && (is_word(chars[open - 1]) || chars[open - 1] == '!');
    let args = top_level_args(inside);
    let code_arg = args
        .iter()
        .any(|a| a.iter().any(|c| !c.is_whitespace()) && !has_prose(a));
    has_prose(inside) && !(called && args.len() > 1 && code_arg)
}

/// 引号外面有汉字:这是一句话,不是代码。
pub(super) fn has_prose(chars: &[char]) -> bool {
    let mut i = 0;
    while i < chars.len() {
        if let Some(close) = closing_quote(chars[i]) {
            i = find(chars, i + 1, close).unwrap_or(chars.len()) + 1;
            continue;
        }
        if !chars[i].is_ascii() && chars[i] != '…' {
            return true;
        }
        i += 1;
    }
    false
}

pub(super) fn closing_quote(c: char) -> Option<char> {
    match c {
        '「' => Some('」'),
        '"' => Some('"'),
        _ => None,
    }
}

/// 从 `open`(一个左括号)起,找到和它配对的右括号;引号里的括号不算。
pub(super) fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        let c = chars[i];
        if let Some(close) = closing_quote(c) {
            i = find(chars, i + 1, close)? + 1;
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return (c == ')').then_some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// 顶层的逗号分开了几个参数(括号和引号里的逗号不算)。
pub(super) fn count_args(chars: &[char]) -> usize {
    top_level_args(chars).len()
}

/// 用顶层的逗号把参数分开(括号和引号里的逗号不算);什么都没写就是没有参数。
pub(super) fn top_level_args(chars: &[char]) -> Vec<Vec<char>> {
    if chars.iter().all(|c| c.is_whitespace()) {
        return Vec::new();
    }
    let mut args = vec![Vec::new()];
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(close) = closing_quote(c) {
            let end = find(chars, i + 1, close).map_or(chars.len(), |end| end + 1);
            args.last_mut()
                .expect("至少一个")
                .extend_from_slice(&chars[i..end]);
            i = end;
            continue;
        }
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                args.push(Vec::new());
                i += 1;
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("至少一个").push(c);
        i += 1;
    }
    args
}

/// 最后一段「…」或 "…" 里的文字。
pub(super) fn last_quoted(chars: &[char]) -> Option<String> {
    let mut found = None;
    let mut i = 0;
    while i < chars.len() {
        if let Some(close) = closing_quote(chars[i]) {
            let end = find(chars, i + 1, close)?;
            found = Some(unwrapped(&chars[i + 1..end]));
            i = end + 1;
        } else {
            i += 1;
        }
    }
    found
}

/// 注释折行处的换行去掉(中文折行不需要空格)。
pub(super) fn unwrapped(chars: &[char]) -> String {
    chars.iter().filter(|c| **c != '\n').collect()
}
