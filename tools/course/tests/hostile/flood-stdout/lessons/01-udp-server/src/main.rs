//! 恶意提交(测试用):服务器报出地址,然后往 stdout 无休止地打印,想撑爆评分器的内存。
//! 自己的上限:20 秒或 8 GiB。

use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("能绑定");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", socket.local_addr().expect("有地址"));
    flood(&mut out);
}

fn flood(out: &mut impl Write) {
    let started = Instant::now();
    let line = "洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水洪水\n".repeat(64);
    let mut written = 0u64;
    while written < 8 << 30 && started.elapsed() < Duration::from_secs(20) {
        if out.write_all(line.as_bytes()).is_err() {
            return;
        }
        written += line.len() as u64;
    }
}
