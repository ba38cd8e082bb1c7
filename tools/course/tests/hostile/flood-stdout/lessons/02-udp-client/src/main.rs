//! 恶意提交(测试用):客户端什么都不发,只往 stdout 无休止地打印(评分器等它自己结束)。
//! 自己的上限:20 秒或 8 GiB。

use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let mut out = std::io::stdout().lock();
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
