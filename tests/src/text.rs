//! 给人看的文字:把字节转义得看得见,从一行输出里找出地址。

use std::net::SocketAddr;

/// 显示字节时最多显示这么多个字符,再多就用「…」省略。
const SHOW_CHARS: usize = 60;

/// 把字节显示成带引号的文字,看不见的字符和坏的 UTF-8 字节都转义出来,并注明长度。
///
/// `"你好,世界" (13 字节)`、`"\xff\xfehi" (4 字节)`、`"" (0 字节)`。
pub fn show_bytes(bytes: &[u8]) -> String {
    let mut shown = String::new();
    let mut chars = 0;
    'chunks: for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == SHOW_CHARS {
                shown.push('…');
                break 'chunks;
            }
            shown.extend(c.escape_debug());
            chars += 1;
        }
        for b in chunk.invalid() {
            if chars == SHOW_CHARS {
                shown.push('…');
                break 'chunks;
            }
            shown.push_str(&format!("\\x{b:02x}"));
            chars += 1;
        }
    }
    match bytes.len() {
        0 => "\"\" (0 字节)".to_owned(),
        n => format!("\"{shown}\" ({n} 字节)"),
    }
}

/// 在一行文字里找出第一个形如 `127.0.0.1:40000` 或 `[::1]:40000` 的套接字地址。
///
/// 地址前后可以是任何文字(中文冒号、括号都行),所以学员的提示语怎么写都可以。
pub fn find_socket_addr(line: &str) -> Option<SocketAddr> {
    let is_addr_char = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']');
    line.split(|c: char| !is_addr_char(c))
        .filter(|run| !run.is_empty())
        .find_map(|run| {
            // 「地址:127.0.0.1:80」里,冒号会和地址连在一起,所以从每个可能的起点试一遍。
            (0..run.len())
                .filter(|&i| run.is_char_boundary(i))
                .find_map(|i| run[i..].parse().ok())
        })
}

/// 把多行文字缩进,空文字显示为「(空)」。
pub fn indent(text: &str, prefix: &str) -> String {
    if text.trim().is_empty() {
        return format!("{prefix}(空)");
    }
    text.trim_matches(['\n', '\r'])
        .trim_end()
        .lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 显示收到的一行文字:控制字符(比如 ESC)转义成 `\u{1b}`,太长的只显示开头。
pub fn show_text(line: &str) -> String {
    let mut shown = String::new();
    for (i, c) in line.chars().enumerate() {
        if i == SHOW_CHARS {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_text_invalid_bytes_and_control_characters() {
        assert_eq!(
            show_bytes("你好,世界".as_bytes()),
            "\"你好,世界\" (13 字节)"
        );
        assert_eq!(show_bytes(b"\xff\xfehi\n"), "\"\\xff\\xfehi\\n\" (5 字节)");
        assert_eq!(show_bytes(b""), "\"\" (0 字节)");
    }

    #[test]
    fn shortens_long_payloads_but_keeps_their_length() {
        let shown = show_bytes(&[b'a'; 8000]);
        assert!(shown.ends_with("…\" (8000 字节)"), "{shown}");
    }

    #[test]
    fn finds_addresses_whatever_surrounds_them() {
        let want: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert_eq!(find_socket_addr("正在监听 127.0.0.1:40000"), Some(want));
        assert_eq!(find_socket_addr("地址:127.0.0.1:40000。"), Some(want));
        assert_eq!(find_socket_addr("listening on 127.0.0.1:40000"), Some(want));
        assert_eq!(
            find_socket_addr("监听 [::1]:7852"),
            Some("[::1]:7852".parse().unwrap())
        );
        assert_eq!(find_socket_addr("服务器已启动"), None);
        assert_eq!(find_socket_addr("端口 7852"), None);
    }
}
