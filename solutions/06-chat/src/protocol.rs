//! 聊天室的协议:昵称的规则、一行文字怎么清洗、一行输入是什么意思。
//!
//! 服务器和客户端都用它;这里没有任何网络代码,每个函数都只是「文字进,文字出」。
//!
//! 服务器发出的每一行都以一个记号开头,客户端据此上色,人和程序都一眼能分清:
//! - `[昵称] 文字`:某人对大家说的话;`[昵称 悄悄对你说] 文字`:只给你的私信;
//! - `* 文字`:系统通知(谁进来了、谁走了、谁改名了、命令的回复);
//! - `! 文字`:只发给你一个人的错误提示(昵称不合法、未知命令……)。

/// 聊天室的默认端口,和 Python 教程里的一样。
pub const DEFAULT_PORT: u16 = 2023;

/// 一行最多这么多字节(不算换行)。超过的客户端会被断开:不设上限的话,
/// 一个一直不发换行的客户端能把服务器的内存吃光。
pub const MAX_LINE: usize = 1024;

/// 昵称最多这么多个字符(不是字节:「小明」是 2 个字符、6 个字节)。
pub const MAX_NICK_CHARS: usize = 16;

// ANCHOR: command
/// 客户端发来的一行(已经有昵称以后)是什么意思。
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// 空行:什么也不做。
    Nothing,
    /// 普通的一句话:转发给其他所有人。
    Say(&'a str),
    /// `/list`:谁在线。
    List,
    /// `/nick 新昵称`:改名。
    Nick(&'a str),
    /// `/msg 昵称 内容`:私信。
    Msg { to: &'a str, text: &'a str },
    /// `/quit`:离开。
    Quit,
    /// `/help`:列出命令。
    Help,
    /// 写错了的命令,附带要告诉发送者的话。
    Invalid(String),
}

/// `/help` 的回复。
pub const HELP: &str = "命令: /list 谁在线 · /nick 新昵称 · /msg 昵称 内容 · /quit 离开";

/// 解析一行输入。不以 `/` 开头的就是普通的一句话。
pub fn parse(line: &str) -> Command<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Command::Nothing;
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Command::Say(line);
    };
    // 命令名和参数之间用空格分开;split_once 只切第一个空格,私信的内容里可以有空格。
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let args = args.trim();
    match name {
        "list" => Command::List,
        "quit" => Command::Quit,
        "help" => Command::Help,
        "nick" if !args.is_empty() => Command::Nick(args),
        "nick" => Command::Invalid("用法: /nick 新昵称".to_owned()),
        "msg" => match args.split_once(' ') {
            Some((to, text)) if !text.trim().is_empty() => Command::Msg {
                to,
                text: text.trim(),
            },
            _ => Command::Invalid("用法: /msg 昵称 内容".to_owned()),
        },
        _ => Command::Invalid(format!("未知命令 /{name},输入 /help 查看可用的命令")),
    }
}
// ANCHOR_END: command

// ANCHOR: check_nick
/// 检查一个昵称是否合法;不合法时返回要告诉用户的原因。
///
/// 规则:1 到 16 个字符,只能是字母(汉字也算)、数字、`_` 和 `-`。
/// 这样昵称里不会有空格(`/msg 昵称 内容` 才切得开),也不会有控制字符。
pub fn check_nick(nick: &str) -> Result<(), String> {
    let chars = nick.chars().count();
    if chars == 0 {
        return Err("昵称不能是空的".to_owned());
    }
    if chars > MAX_NICK_CHARS {
        // 只回显开头的一截:对方发来 1000 个字符,我们不必把 1000 个字符原样送回去。
        let head: String = nick.chars().take(MAX_NICK_CHARS).collect();
        return Err(format!(
            "昵称最多 {MAX_NICK_CHARS} 个字符,「{}…」有 {chars} 个",
            clean(&head)
        ));
    }
    if let Some(bad) = nick
        .chars()
        .find(|&c| !(c.is_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(format!(
            "昵称只能有字母、汉字、数字、_ 和 -,不能有「{}」",
            bad.escape_debug()
        ));
    }
    Ok(())
}
// ANCHOR_END: check_nick

// ANCHOR: clean
/// 把别人发来的文字变得可以安全地显示在其他人的终端上。
///
/// 控制字符不能原样转发:`\x1b[2J` 这样的 ANSI 转义序列会清掉别人的屏幕,
/// `\r` 能把一行字改写成另一副样子。看不见的「格式字符」也一样危险:U+202E
/// (从右往左显示)能把 `[alice] 我没说过 gnp.exe` 显示成另一副样子,U+2028(行分隔符)
/// 在有的终端和界面里就是换行,能伪造出一行「别人说的话」。
/// 制表符换成空格,其余这些字符都换成 �。
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() || is_invisible_format(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Unicode 的「格式字符」(类别 Cf)、行分隔符(Zl)和段分隔符(Zp)。
///
/// 标准库只有 `char::is_control`(类别 Cc);这几类没有现成的函数,按 Unicode 15 的表列出来。
fn is_invisible_format(c: char) -> bool {
    const RANGES: [(char, char); 21] = [
        ('\u{00AD}', '\u{00AD}'),
        ('\u{0600}', '\u{0605}'),
        ('\u{061C}', '\u{061C}'),
        ('\u{06DD}', '\u{06DD}'),
        ('\u{070F}', '\u{070F}'),
        ('\u{0890}', '\u{0891}'),
        ('\u{08E2}', '\u{08E2}'),
        ('\u{180E}', '\u{180E}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{2028}', '\u{202E}'),
        ('\u{2060}', '\u{2064}'),
        ('\u{2066}', '\u{206F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFF9}', '\u{FFFB}'),
        ('\u{110BD}', '\u{110BD}'),
        ('\u{110CD}', '\u{110CD}'),
        ('\u{13430}', '\u{1343F}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0001}', '\u{E0001}'),
        ('\u{E0020}', '\u{E007F}'),
    ];
    RANGES.iter().any(|&(low, high)| (low..=high).contains(&c))
}
// ANCHOR_END: clean

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_said() {
        assert_eq!(parse("  你好 世界 "), Command::Say("你好 世界"));
        assert_eq!(parse("   "), Command::Nothing);
    }

    #[test]
    fn commands_are_parsed() {
        assert_eq!(parse("/list"), Command::List);
        assert_eq!(parse("/nick 小明"), Command::Nick("小明"));
        assert_eq!(
            parse("/msg bob 晚上 一起吃饭"),
            Command::Msg {
                to: "bob",
                text: "晚上 一起吃饭"
            }
        );
        assert!(matches!(parse("/msg bob"), Command::Invalid(_)));
        assert!(matches!(parse("/nick"), Command::Invalid(_)));
        assert!(matches!(parse("/dance"), Command::Invalid(e) if e.contains("/dance")));
    }

    #[test]
    fn nick_rules() {
        assert!(check_nick("小明").is_ok());
        assert!(check_nick("bob_2-x").is_ok());
        assert!(check_nick("").is_err());
        assert!(check_nick("a b").is_err());
        assert!(check_nick("\u{1b}[31mred").is_err());
        assert!(check_nick(&"长".repeat(17)).is_err());
        assert!(check_nick(&"长".repeat(16)).is_ok());
    }

    #[test]
    fn a_long_nick_is_not_echoed_whole() {
        let why = check_nick(&"长".repeat(1000)).unwrap_err();
        assert!(why.contains("1000"), "{why}");
        assert!(why.chars().count() < 60, "回显了太多: {why}");
    }

    #[test]
    fn invisible_format_characters_never_pass() {
        for c in [
            '\u{202E}',
            '\u{200B}',
            '\u{2028}',
            '\u{2029}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            let cleaned = clean(&format!("a{c}b"));
            assert_eq!(cleaned, "a\u{FFFD}b", "U+{:04X} 应该被换掉", c as u32);
        }
        assert_eq!(clean("你好,世界 👋"), "你好,世界 👋");
    }

    #[test]
    fn control_characters_never_pass() {
        let cleaned = clean("\u{1b}[2J清屏\r\u{7}\t!");
        assert!(!cleaned.chars().any(char::is_control));
        assert_eq!(cleaned, "\u{FFFD}[2J清屏\u{FFFD}\u{FFFD} !");
    }
}
