//! 恶意提交(测试用):fork 炸弹加线程炸弹。
//! 自己的上限:最多 300 个子进程、10,000 个线程、20 秒;沙箱坏了也拖不垮机器。

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

fn main() {
    let started = Instant::now();
    let left = || LIMIT.saturating_sub(started.elapsed());
    if std::env::args().nth(1).as_deref() == Some("bomb-child") {
        // fault injection: 子进程什么都不做,只占着一个进程名额,到上限时间就退出。
        thread::sleep(left());
        return;
    }
    let me = std::env::current_exe().expect("找得到自己");
    let mut children = Vec::new();
    while children.len() < 300 && !left().is_zero() {
        let spawned = Command::new(&me)
            .arg("bomb-child")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => children.push(child),
            Err(err) => {
                eprintln!("fork 炸弹停在 {} 个子进程:{err}", children.len());
                break;
            }
        }
    }
    let mut threads = 0;
    while threads < 10_000 && !left().is_zero() {
        let until = left();
        // fault injection: 每个线程只是睡着,占着一个线程名额。
        let spawned = thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || thread::sleep(until));
        match spawned {
            Ok(_) => threads += 1,
            Err(err) => {
                eprintln!("线程炸弹停在 {threads} 个线程:{err}");
                break;
            }
        }
    }
    println!("炸弹:{} 个子进程,{threads} 个线程", children.len());
    // fault injection: 占着这些进程和线程,直到上限时间。
    thread::sleep(left());
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
