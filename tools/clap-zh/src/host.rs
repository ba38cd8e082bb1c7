//! `--host` 的值:IP 地址或主机名,也认服务器自己打印的 `[::1]` 这种写法。

use std::net::{Ipv6Addr, SocketAddr};

/// 给 `--host` 用的解析函数(clap 的 `value_parser = clap_zh::host`)。
///
/// 服务器打印的是 `[::1]:7852`:IPv6 地址里本来就有冒号,写在端口前面时要加方括号。
/// 学员照抄 `--host [::1]` 时,去掉方括号,交给 `(host, port)` 的是 `::1`。
/// 连端口一起写(`127.0.0.1:7852`)时说清楚:端口用 `--port` 单独写。
pub fn host(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(
            "不能是空的:写一个 IP 地址(比如 127.0.0.1 或 ::1)或主机名(比如 localhost)".to_owned(),
        );
    }
    if text.parse::<SocketAddr>().is_ok() {
        return Err(
            "这里只写地址,端口用 --port 单独写,比如 --host 127.0.0.1 --port 7852".to_owned(),
        );
    }
    let Some(inner) = text.strip_prefix('[') else {
        if text.contains(['[', ']']) {
            return Err("方括号没有配对:IPv6 地址写成 ::1 或者 [::1]".to_owned());
        }
        return Ok(text.to_owned());
    };
    match inner.strip_suffix(']') {
        Some(address) if address.parse::<Ipv6Addr>().is_ok() => Ok(address.to_owned()),
        Some(_) => Err("方括号里要是一个 IPv6 地址,比如 [::1]".to_owned()),
        None => Err("方括号没有配对:IPv6 地址写成 ::1 或者 [::1]".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_ipv6_is_the_address_inside() {
        assert_eq!(host("[::1]").as_deref(), Ok("::1"));
        assert_eq!(host("[fe80::1]").as_deref(), Ok("fe80::1"));
        // 去掉方括号以后,它就能交给 (host, port) 了。
        let addr =
            std::net::ToSocketAddrs::to_socket_addrs(&(host("[::1]").unwrap().as_str(), 7852))
                .unwrap()
                .next()
                .unwrap();
        assert_eq!(addr.to_string(), "[::1]:7852");
    }

    #[test]
    fn plain_addresses_and_names_pass_unchanged() {
        for text in ["127.0.0.1", "::1", "0.0.0.0", "::", "localhost"] {
            assert_eq!(host(text).as_deref(), Ok(text));
        }
    }

    #[test]
    fn broken_brackets_ports_and_empty_hosts_are_refused_in_chinese() {
        for text in [
            "[::1",
            "::1]",
            "[127.0.0.1]",
            "[]",
            "",
            "127.0.0.1:7852",
            "[::1]:7852",
        ] {
            let err = host(text).expect_err(text);
            assert!(!err.is_ascii(), "{text}: {err}");
        }
        assert!(host("[::1]:7852").unwrap_err().contains("--port"));
    }
}
