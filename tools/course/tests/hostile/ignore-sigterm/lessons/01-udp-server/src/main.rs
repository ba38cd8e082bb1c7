//! 恶意提交(测试用):留下一个忽略 SIGTERM、又脱离了进程组的进程,评分器结束了程序,它还在。
//! 自己的上限:它只是 `sleep 60`,一分钟后自己退出。

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

fn main() {
    let spawned = Command::new("sh")
        .args(["-c", "trap '' TERM INT HUP; exec sleep 60"])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => println!("留下了进程 {}", child.id()),
        Err(err) => eprintln!("没能留下进程:{err}"),
    }
    // fault injection: 主程序也不干活,睡到被评分器结束(同样有上限)。
    std::thread::sleep(std::time::Duration::from_secs(60));
}
