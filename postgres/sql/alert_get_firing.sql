SELECT * FROM alerts WHERE rule = $1 AND workflow = $2 AND class = $3 AND state = 'firing';
