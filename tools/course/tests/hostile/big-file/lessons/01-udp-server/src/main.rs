//! 恶意提交(测试用):往当前目录写一个 1 GiB 的文件,想写满老师的磁盘。
//! 自己的上限:1 GiB,写完就删掉。

use std::io::Write;

fn main() {
    let path = std::path::Path::new("big.bin");
    let mut file = std::fs::File::create(path).expect("能创建文件");
    let chunk = vec![0x5au8; 1 << 20];
    let mut written = 0usize;
    while written < 1 << 30 {
        if let Err(err) = file.write_all(&chunk) {
            eprintln!("写到 {} MiB 时失败:{err}", written >> 20);
            break;
        }
        written += chunk.len();
    }
    println!("写了 {} MiB", written >> 20);
    let _ = std::fs::remove_file(path);
}
