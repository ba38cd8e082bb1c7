//! 命令行参数:写错时说中文、退出码 2;`--host [::1]`(服务器自己打印的写法)也能用。

use std::process::{Command, Stdio};
use std::time::Duration;

/// `--port 70000`:中文说明(包括 --port 自己的说明),退出码 2,不 panic。
#[test]
fn a_port_out_of_range_is_explained_in_chinese() {
    let out = Command::new(env!("CARGO_BIN_EXE_solution-01"))
        .args(["--port", "70000"])
        .output()
        .expect("能运行 solution-01");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("错误: --port 的值「70000」不对:要在 0 到 65535 之间"),
        "{stderr}"
    );
    assert!(!stderr.contains("invalid value"), "{stderr}");
}

/// `--host [::1]` 和 `--host ::1` 一样:绑定在 IPv6 的回环地址上。
#[test]
fn a_bracketed_ipv6_host_is_accepted() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_solution-01"))
        .args(["--host", "[::1]", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("能启动 solution-01");
    let stdout = server.stdout.take().expect("piped");
    let first = harness::program::first_line_then_close(stdout, Duration::from_secs(10));
    let _ = server.kill();
    let _ = server.wait();
    let first = first.expect("服务器在 10 秒内打印了第一行");
    assert!(first.contains("[::1]:"), "{first}");
}
